"""PGD's time over its floor: k bare forward+backward passes (input gradient only) of the same batch.

The floor is what any k-step gradient attack must pay; the ratio shows what the attack adds on top
(projection, clipping, sign, bookkeeping). Measured in one run, best of several repeats, on the zoo
CNN and the default digits batch (360 test images).
"""
from __future__ import annotations


import torch
import torch.nn.functional as F

from limitlab.attacks import fgsm, pgd
from limitlab.data import digits
from limitlab.models import build
from limitlab.timing import best_time as best_of



def floor(model, x, y, steps: int) -> None:
    for p in model.parameters():
        p.requires_grad_(False)
    for _ in range(steps):
        xi = x.detach().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xi), y, reduction="sum"), xi)


def main() -> None:
    torch.manual_seed(0)
    model = build("cnn").eval()
    data = digits().test
    x, y = data.x, data.y
    for steps in (1, 10, 40):
        base = best_of(lambda: floor(model, x, y, steps))
        t_pgd = best_of(lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps))
        t_rs = best_of(lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps, random_start=True,
                                   generator=torch.Generator().manual_seed(0)))
        line = f"pgd k={steps:>2}: floor {base * 1e3:7.1f} ms | pgd {t_pgd / base:5.2f}x | pgd+random start {t_rs / base:5.2f}x"
        if steps == 1:
            line += f" | fgsm {best_of(lambda: fgsm(model, x, y, eps=0.1)) / base:5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
