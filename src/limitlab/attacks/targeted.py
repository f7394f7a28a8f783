"""The targeted-attack success matrix: how often each input is turned into each chosen class, over budgets.

Szegedy et al. Intriguing properties of neural networks. ICLR 2014, arXiv:1312.6199, and Madry et al.
ICLR 2018, arXiv:1706.06083: a targeted attack descends the loss of a chosen class t instead of
ascending the loss of the true class. Every input is attacked towards every class in one batch
(num_classes x N attacked copies); entry (i, j) is the fraction of inputs of true class i that the
model then assigns to class j (NaN for a class with no input). The diagonal is "already that class".
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.errors import ConfigError, DataError

Attack = Callable[[nn.Module, Tensor, Tensor], Tensor]  # (model, x, target) -> x_adv


def targeted_success(model: nn.Module, x: Tensor, y: Tensor, *, attack: Attack, num_classes: int) -> Tensor:
    """A (num_classes, num_classes) matrix: rows true classes, columns targets, entries success rates."""
    if num_classes < 2:
        raise ConfigError(f"num_classes={num_classes}; expected >= 2")
    bad = y.shape != x.shape[:1] or y.is_floating_point()
    if bad or (len(y) and not 0 <= int(y.min()) <= int(y.max()) < num_classes):
        raise DataError(f"y has shape {tuple(y.shape)}, values {y.unique().tolist()[:12]}; expected integer labels "
                        f"in [0, {num_classes}) for {len(x)} inputs")
    targets = torch.arange(num_classes).repeat_interleave(len(x))
    x_adv = attack(model, x.repeat(num_classes, *([1] * (x.dim() - 1))), targets)
    with frozen(model), torch.no_grad():
        hit = (model(x_adv).argmax(1) == targets).float()
    index = y.repeat(num_classes) * num_classes + targets
    total = torch.bincount(index, minlength=num_classes ** 2).float()
    rate = torch.bincount(index, weights=hit, minlength=num_classes ** 2) / total
    return rate.view(num_classes, num_classes).where(total.view(num_classes, num_classes) > 0,
                                                       torch.tensor(float("nan")))


def mean_off_diagonal(matrix: Tensor) -> float:
    """The mean success over (true, target) pairs with target != true (classes with no input left out)."""
    off = ~torch.eye(len(matrix), dtype=torch.bool)
    return float(matrix[off].nanmean())


@dataclass(frozen=True)
class TargetedSweep:
    """Targeted success over a grid of budgets: per eps the matrix, and each target class's success rate
    over the inputs of the other classes (`counts[t]` of them)."""

    eps: list[float]
    matrices: list[Tensor]
    per_target: list[list[float]]
    counts: list[int]

    def mean(self, i: int) -> float:
        return mean_off_diagonal(self.matrices[i])

    def weakest(self, i: int) -> int:
        """The target class the attack reaches least often at the i-th eps."""
        return min(range(len(self.counts)), key=lambda t: self.per_target[i][t])

    def hardest(self, i: int) -> tuple[float, float]:
        """(success rate towards the hardest target class at the i-th eps, two binomial standard errors of it)."""
        t = self.weakest(i)
        rate, n = self.per_target[i][t], max(self.counts[t], 1)
        return rate, 2 * math.sqrt(rate * (1 - rate) / n)

    def reached(self, level: float = 0.5) -> float | None:
        """The smallest eps at which every target class is reached on more than `level` of the inputs of the
        other classes, by more than two standard errors (None if no eps of the grid does)."""
        return next((e for i, e in enumerate(self.eps) if self.hardest(i)[0] - level > self.hardest(i)[1]), None)


def _at_eps(attack: Callable[[nn.Module, Tensor, Tensor, float], Tensor], eps: float) -> Attack:
    """`attack` with its eps fixed: (model, x, target) -> x_adv."""
    return lambda model, x, target: attack(model, x, target, eps)


def targeted_sweep(model: nn.Module, x: Tensor, y: Tensor, *, attack: Callable[[nn.Module, Tensor, Tensor, float],
                   Tensor], eps_grid: list[float], num_classes: int) -> TargetedSweep:
    """`targeted_success` at every eps of `eps_grid`; `attack(model, x, target, eps) -> x_adv`."""
    mats = [targeted_success(model, x, y, num_classes=num_classes, attack=_at_eps(attack, e)) for e in eps_grid]
    counts = [int((y != t).sum()) for t in range(num_classes)]
    # Input i of class c towards target t counts once, with weight 1 / (inputs of class c): weigh rows by class size.
    size = torch.bincount(y, minlength=num_classes).double()
    per_target = [[float((mat[:, t].nan_to_num(0.0).double() * size)[torch.arange(num_classes) != t].sum())
                   / max(counts[t], 1) for t in range(num_classes)] for mat in mats]
    return TargetedSweep(list(eps_grid), mats, per_target, counts)
