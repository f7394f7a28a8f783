"""PGD's time over its floor: k bare forward+backward passes (input gradient only) of the same batch.

The floor is what any k-step gradient attack must pay; the ratio shows what the attack adds on top
(projection, clipping, sign, bookkeeping). Measured in one run, best of several repeats, on the zoo
CNN and the default digits batch (360 test images). This machine's speed drifts by tens of percent
over seconds, so each attack and its floor are timed in alternation, many times for short runs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from limitlab.attacks import fgsm, pgd
from limitlab.data import digits
from limitlab.models import build
from limitlab.timing import best_time_ratio


def floor(model, x, y, steps: int) -> None:
    for p in model.parameters():
        p.requires_grad_(False)
    for _ in range(steps):
        xi = x.detach().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xi), y, reduction="sum"), xi)


def row(model, x, y, steps: int) -> str:
    """One line: the floor of `steps` passes, and PGD (and at one step FGSM) over it."""
    repeats = max(5, 60 // steps)
    base = lambda: floor(model, x, y, steps)  # noqa: E731
    plain = lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps)  # noqa: E731
    start = lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps, random_start=True,  # noqa: E731
                        generator=torch.Generator().manual_seed(0))
    r_pgd, t_base = best_time_ratio(plain, base, repeats=repeats)
    r_rs, _ = best_time_ratio(start, base, repeats=repeats)
    line = f"pgd k={steps:>2}: floor {t_base * 1e3:7.1f} ms | pgd {r_pgd:5.2f}x | pgd+random start {r_rs:5.2f}x"
    if steps == 1:
        line += f" | fgsm {best_time_ratio(lambda: fgsm(model, x, y, eps=0.1), base, repeats=repeats)[0]:5.2f}x"
    return line


def main() -> None:
    torch.manual_seed(0)
    model = build("cnn").eval()
    data = digits().test
    for steps in (1, 10, 40):
        print(row(model, data.x, data.y, steps))


if __name__ == "__main__":
    main()
