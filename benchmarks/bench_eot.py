"""EOT-PGD time over its floor, measured in one run.

The floor of EOT-PGD with S samples and K steps on N inputs is K bare forward+backward passes of the
model on the S*N transformed copies (input gradients only, parameters frozen, no transformation,
no projection). The ratio time / floor is the overhead of sampling and applying the transformations
(bilinear resampling), the projection and the bookkeeping. Plain PGD's ratio over its own floor
(K passes on N inputs) is printed beside it. Measured 2026-11-22 on the 2-core CPU shared with other
jobs (load ~6), 1 thread, 10 steps: EOT x1.26 its floor (N=100, 12 samples), x1.18 (N=100, 1 sample),
x1.09 (N=10, 32 samples); PGD x0.8-1.5 its floor (noise of the shared machine); EOT / PGD ~ samples.
The transformations (one bilinear resampling per copy) cost a fraction of the network's passes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from limitlab.attacks import eot_pgd, pgd
from limitlab.data.transforms import TransformDistribution
from limitlab.models import build
from limitlab.timing import best_time as best_of

STEPS = 10



def floor(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """STEPS bare forward+backward passes with respect to the input."""
    for _ in range(STEPS):
        xs = x.detach().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xs), y, reduction="sum"), xs)


def row(model: torch.nn.Module, dist: TransformDistribution, n: int, samples: int) -> str:
    """One line: EOT-PGD and PGD on `n` random inputs, each over its floor."""
    kw = dict(eps=0.3, step_size=0.03, steps=STEPS, targeted=True)
    x, y = torch.rand(n, 1, 8, 8), torch.randint(0, 10, (n,))
    t_eot = best_of(lambda: eot_pgd(model, x, y, transform=dist, samples=samples,
                                    generator=torch.Generator().manual_seed(0), **kw))
    t_floor = best_of(lambda: floor(model, x.repeat(samples, 1, 1, 1), y.repeat(samples)))
    t_pgd, t_pfloor = best_of(lambda: pgd(model, x, y, **kw)), best_of(lambda: floor(model, x, y))
    return (f"N={n:4d} samples={samples:3d}: EOT {t_eot * 1e3:7.1f} ms = x{t_eot / t_floor:.2f} its floor; "
            f"PGD {t_pgd * 1e3:6.1f} ms = x{t_pgd / t_pfloor:.2f} its floor; EOT / PGD = x{t_eot / t_pgd:.1f}")


def main() -> None:
    torch.manual_seed(0)
    model = build("cnn").eval()
    for p in model.parameters():
        p.requires_grad_(False)
    dist = TransformDistribution(max_shift=0.5, max_rotation=10.0, scale_range=(0.95, 1.05), noise_std=0.05,
                                 max_brightness=0.1, contrast_range=(0.9, 1.1))
    print(f"EOT-PGD and PGD over their floors ({STEPS} steps, zoo CNN, torch threads={torch.get_num_threads()})")
    for n, samples in ((100, 12), (100, 1), (10, 32)):
        print(row(model, dist, n, samples))


if __name__ == "__main__":
    main()
