"""PGD's time over its floor: k bare forward+backward passes (input gradient only) of the same batch.

The floor is what any k-step gradient attack must pay; the ratio shows what the attack adds on top
(projection, clipping, sign, bookkeeping). Measured in one run, best of several repeats, on the zoo
CNN and the default digits batch (360 test images). This machine's speed drifts by tens of percent
over seconds, so each attack and its floor are timed in alternation, many times for short runs.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from limitlab.attacks import fgsm, pgd
from limitlab.data import digits
from limitlab.models import build


def ratio(attack: Callable[[], object], base: Callable[[], object], *, repeats: int) -> tuple[float, float]:
    """(best attack time / best floor time, best floor time), the two timed in alternation."""
    best = [float("inf"), float("inf")]
    attack(), base()  # warm up
    for k in range(repeats):
        for i in ((0, 1), (1, 0))[k % 2]:  # swap the order each time: neither always runs first
            fn = (attack, base)[i]
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0] / best[1], best[1]


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
        repeats = max(5, 60 // steps)
        base = lambda: floor(model, x, y, steps)  # noqa: E731
        r_pgd, t_base = ratio(lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps), base, repeats=repeats)
        r_rs, _ = ratio(lambda: pgd(model, x, y, eps=0.1, step_size=0.01, steps=steps, random_start=True,
                                    generator=torch.Generator().manual_seed(0)), base, repeats=repeats)
        line = f"pgd k={steps:>2}: floor {t_base * 1e3:7.1f} ms | pgd {r_pgd:5.2f}x | pgd+random start {r_rs:5.2f}x"
        if steps == 1:
            line += f" | fgsm {ratio(lambda: fgsm(model, x, y, eps=0.1), base, repeats=repeats)[0]:5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
