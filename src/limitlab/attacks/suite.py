"""Attacks by name at one budget: L-inf attacks at eps, L2 attacks at the matching L2 size eps * sqrt(d).

Goodfellow, Shlens, Szegedy. ICLR 2015, arXiv:1412.6572 (the gradient step, FGSM, random noise of the
same size). Madry et al. ICLR 2018, arXiv:1706.06083 (PGD, with and without random start). An L-inf
sign perturbation of size eps has L2 length eps * sqrt(d) on d pixels, so every attack named here
moves an input by the same Euclidean distance: the families differ in direction, not in size.
PGD takes `steps` steps of `step_ratio` * size / steps (Madry et al. use 40 steps of 0.01 at eps 0.3).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.gradient_step import gradient_step
from limitlab.attacks.noise import random_l2, random_sign
from limitlab.attacks.pgd import pgd
from limitlab.errors import ConfigError

ATTACKS = ("gradient-l2", "fgsm", "pgd-inf", "pgd-inf-rs", "pgd-l2", "pgd-l2-rs", "noise-sign", "noise-l2")


def attack(name: str, model: nn.Module, x: Tensor, y: Tensor, *, eps: float, steps: int, step_ratio: float,
           targeted: bool = False, bounds: tuple[float, float] = (0.0, 1.0),
           generator: torch.Generator | None = None) -> Tensor:
    """x changed by the attack `name` (one of `ATTACKS`) at L-inf budget eps; x itself at eps = 0.
    `targeted`: `y` holds the target classes (the gradient attacks only: noise has no target)."""
    if name not in ATTACKS:
        raise ConfigError(f"attack {name!r}; expected one of {', '.join(ATTACKS)}")
    if targeted and name.startswith("noise"):
        raise ConfigError(f"attack {name!r} is random noise; it cannot be targeted")
    if eps == 0:
        return x
    eps2 = eps * math.sqrt(x[0].numel())
    if name == "gradient-l2":
        return gradient_step(model, x, y, eta=eps2, normalize=True, targeted=targeted, bounds=bounds)
    if name == "fgsm":
        return fgsm(model, x, y, eps=eps, targeted=targeted, bounds=bounds)
    if name.startswith("pgd"):
        size = eps if "inf" in name else eps2
        return pgd(model, x, y, eps=size, step_size=step_ratio * size / steps, steps=steps, targeted=targeted,
                   norm="inf" if "inf" in name else "2", random_start=name.endswith("-rs"), bounds=bounds,
                   generator=generator)
    if name == "noise-sign":
        return random_sign(x, eps=eps, bounds=bounds, generator=generator)
    return random_l2(x, eps=eps2, bounds=bounds, generator=generator)
