"""Shared argument checks for the uncertainty scores."""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.errors import DataError


def check_probs(probs: Tensor, *, dims: tuple[int, ...] = (2, 3)) -> Tensor:
    """Probabilities (N, C) or (samples, N, C), non-negative, each row summing to one."""
    probs = torch.as_tensor(probs)
    if probs.dim() not in dims or not probs.is_floating_point():
        shapes = " or ".join({2: "(N, C)", 3: "(samples, N, C)"}[d] for d in dims)
        raise DataError(f"probabilities have shape {tuple(probs.shape)} and dtype {probs.dtype}; expected a float "
                        f"tensor of shape {shapes} (apply softmax to logits first)")
    if probs.numel() and (bool((probs < 0).any()) or bool(((probs.sum(-1) - 1).abs() > 1e-3).any())):
        raise DataError("probabilities have negative entries or rows that do not sum to 1; "
                        "expected softmax outputs (torch.softmax(logits, dim=-1))")
    return probs


def mean_probs(probs: Tensor) -> Tensor:
    """The predictive distribution: the mean over samples of (samples, N, C), or (N, C) as given."""
    return probs.mean(dim=0) if probs.dim() == 3 else probs
