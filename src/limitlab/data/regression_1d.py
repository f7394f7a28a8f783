"""A 1-D heteroscedastic regression problem: the "inside vs outside the training range" picture.

Kendall, Gal. NeurIPS 2017, arXiv:1703.04977. y = sin(1.5 x) + 0.3 x + noise, with noise standard
deviation rising linearly from 0.05 at x = -2 to 0.35 at x = 2 (aleatoric uncertainty that grows
with x); training inputs are uniform on `TRAIN_RANGE`, so a model has seen no data outside it.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.data.arrays import ArrayDataset
from limitlab.errors import ConfigError

TRAIN_RANGE = (-2.0, 2.0)


def truth(x: Tensor) -> tuple[Tensor, Tensor]:
    """The true mean and noise standard deviation at x."""
    return torch.sin(1.5 * x) + 0.3 * x, 0.05 + 0.075 * (x + 2).clamp(min=0)


def heteroscedastic_1d(num: int, *, generator: torch.Generator | None = None) -> ArrayDataset:
    """`num` points (x, y) with x ~ U(TRAIN_RANGE), y ~ N(mean(x), std(x)^2); x has shape (num, 1)."""
    if num < 1:
        raise ConfigError(f"num={num}; expected >= 1")
    lo, hi = TRAIN_RANGE
    x = lo + (hi - lo) * torch.rand(num, 1, generator=generator)
    mean, std = truth(x[:, 0])
    y = mean + std * torch.randn(num, generator=generator)
    return ArrayDataset(x, y, "regression-1d", 0, (-4.0, 4.0))
