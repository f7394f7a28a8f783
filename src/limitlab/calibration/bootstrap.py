"""The sampling error of ECE on a finite test set, by the bootstrap.

Efron, Tibshirani. An introduction to the bootstrap. 1993. ECE on n test points is itself a random
number: resampling the n (probability, label) pairs with replacement and recomputing ECE shows how
much it would move with another test set of the same size drawn from the same distribution.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.calibration.ece import ece
from limitlab.errors import ConfigError


def ece_bootstrap_se(probs: Tensor, y: Tensor, *, bins: int = 15, num: int = 200,
                     generator: torch.Generator | None = None) -> float:
    """Standard deviation of ECE over `num` resamples (with replacement) of the test set."""
    if num < 2:
        raise ConfigError(f"num={num}; expected >= 2 resamples")
    index = torch.randint(len(y), (num, len(y)), generator=generator)
    values = torch.tensor([ece(probs[i], y[i], bins=bins) for i in index])
    return float(values.std())
