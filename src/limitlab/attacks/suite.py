"""Attacks by name at one budget (L-inf at eps, L2 at the matching eps * sqrt(d)), over a grid, at a headline eps.

Goodfellow, Shlens, Szegedy. ICLR 2015, arXiv:1412.6572 (the gradient step, FGSM, random noise of the
same size). Madry et al. ICLR 2018, arXiv:1706.06083 (PGD, with and without random start). An L-inf
sign perturbation of size eps has L2 length eps * sqrt(d) on d pixels, so every attack named here
moves an input by the same Euclidean distance: the families differ in direction, not in size.
PGD takes `steps` steps of `step_ratio` * size / steps (Madry et al. use 40 steps of 0.01 at eps 0.3).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.gradient_step import gradient_step
from limitlab.attacks.noise import random_l2, random_sign
from limitlab.attacks.pgd import pgd
from limitlab.attacks.restarts import pgd_restarts
from limitlab.errors import ConfigError
from limitlab.stats.curves import first_halving_index

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


def sweep(model: nn.Module, x: Tensor, y: Tensor, *, eps_grid: Sequence[float], steps: int, step_ratio: float,
          generator: Callable[[str, float], torch.Generator | None] = lambda name, eps: None) -> dict[str, list[float]]:
    """Accuracy under every attack of `ATTACKS` at every eps of `eps_grid`; `generator(attack, eps)` gives each
    (attack, eps) its own random stream (random starts, noise)."""
    out: dict[str, list[float]] = {}
    for name in ATTACKS:
        out[name] = []
        for eps in eps_grid:
            adv = attack(name, model, x, y, eps=eps, steps=steps, step_ratio=step_ratio, generator=generator(name, eps))
            with frozen(model), torch.no_grad():
                out[name].append(float((model(adv).argmax(1) == y).float().mean()))
    return out


@dataclass(frozen=True)
class Headline:
    """Per-input correctness (0/1, float64) at one eps under each attack, and PGD's examples."""

    correct: dict[str, Tensor]  # "clean", "fgsm", "noise-sign", "pgd-inf" (and its two schedules)
    pgd_examples: Tensor


def headline(model: nn.Module, x: Tensor, y: Tensor, *, eps: float, steps: int, restarts: int,
             generator: Callable[[str], torch.Generator], short_steps: int = 10, short_ratio: float = 2.5) -> Headline:
    """Clean, FGSM, random sign noise and PGD at its strongest: per input the worst of Madry et al.'s schedule
    (`steps` steps of (4/3) eps / steps, their 0.01 at eps 0.3 over 40 steps, from a random start, worst of
    `restarts`: "pgd-madry") and of a short schedule from the input itself (`short_steps` steps of short_ratio
    * eps / short_steps: "pgd-short"; on small models its longer steps can be the stronger attack)."""
    madry = pgd_restarts(model, x, y, eps=eps, step_size=4 / 3 * eps / steps, steps=steps, restarts=restarts,
                         generator=generator("pgd"))
    adv = {"clean": x, "fgsm": fgsm(model, x, y, eps=eps), "noise-sign": random_sign(x, eps=eps,
                                                                                       generator=generator("noise")),
           "pgd-madry": madry, "pgd-short": pgd(model, x, y, eps=eps, step_size=short_ratio * eps / short_steps,
                                                steps=short_steps)}
    with frozen(model), torch.no_grad():
        correct = {name: (model(v).argmax(1) == y).double() for name, v in adv.items()}
    short_wins = (correct["pgd-short"] < correct["pgd-madry"]).view(-1, *([1] * (x.dim() - 1)))
    correct["pgd-inf"] = torch.minimum(correct["pgd-madry"], correct["pgd-short"])
    return Headline(correct, torch.where(short_wins, adv["pgd-short"], madry))


def halving_eps(eps_grid: Sequence[float], accuracy: Sequence[float]) -> float:
    """The smallest eps > 0 of the grid at which `accuracy` (one per eps) is at most half the accuracy at eps 0;
    the largest eps if none is (or if the grid has no 0). The catalog's pitfall: read the headline eps off the
    curve, since a published eps means something else on other data."""
    if len(eps_grid) != len(accuracy):
        raise ConfigError(f"{len(eps_grid)} eps for {len(accuracy)} accuracies; expected one accuracy per eps")
    if 0.0 not in eps_grid:
        return max(eps_grid)
    grid, acc = zip(*sorted(zip(eps_grid, accuracy)))
    k = first_halving_index(grid, acc)  # the audit's curve summary, on the sorted grid
    return grid[k] if k is not None else max(grid)
