"""Proper scoring rules: negative log-likelihood and the Brier score.

Brier. Verification of forecasts expressed in terms of probability. Monthly Weather Review 1950:
the multi-class score is the mean over inputs of sum_c (p_c - 1[y = c])^2, between 0 and 2.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from limitlab import _checks

_TINY = 1e-12


def nll(probs: Tensor, y: Tensor) -> float:
    """Mean -log p(y | x); probabilities are clamped at 1e-12 so a confident mistake stays finite."""
    _checks.probs(probs, dims=(2,), y=y)
    return float(-probs.gather(1, y[:, None]).clamp_min(_TINY).log().mean())


def brier(probs: Tensor, y: Tensor) -> float:
    """Mean multi-class Brier score, sum_c (p_c - onehot_c)^2."""
    _checks.probs(probs, dims=(2,), y=y)
    onehot = F.one_hot(y, probs.shape[1]).to(probs.dtype)
    return float(((probs - onehot) ** 2).sum(1).mean())


def accuracy(probs: Tensor, y: Tensor) -> float:
    _checks.probs(probs, dims=(2,), y=y)
    return float((probs.argmax(1) == y).to(torch.float64).mean())
