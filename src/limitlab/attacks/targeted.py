"""The targeted-attack success matrix: how often each input is turned into each chosen class.

Szegedy et al. Intriguing properties of neural networks. ICLR 2014, arXiv:1312.6199, and Madry et al.
ICLR 2018, arXiv:1706.06083: a targeted attack descends the loss of a chosen class t instead of
ascending the loss of the true class. Every input is attacked towards every class in one batch
(num_classes x N attacked copies); entry (i, j) is the fraction of inputs of true class i that the
model then assigns to class j (NaN for a class with no input). The diagonal is "already that class".
"""
from __future__ import annotations

from collections.abc import Callable

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
