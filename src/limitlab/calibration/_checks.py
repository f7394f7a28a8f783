from __future__ import annotations

import torch
from torch import Tensor

from limitlab.errors import ConfigError, DataError


def check_probs(probs: Tensor, y: Tensor) -> None:
    """One-line errors for a (N, C) probability matrix and (N,) integer labels that do not fit."""
    if probs.dim() != 2:
        raise DataError(f"probs has shape {tuple(probs.shape)}; expected (N, C) class probabilities "
                        "(average MC or ensemble samples over their first axis first)")
    if y.shape != probs.shape[:1] or y.is_floating_point():
        raise DataError(f"y has shape {tuple(y.shape)} and dtype {y.dtype}; expected integer labels of shape ({len(probs)},)")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= probs.shape[1]):
        raise DataError(f"labels range over {int(y.min())}..{int(y.max())}; expected 0..{probs.shape[1] - 1}")
    if not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype), atol=1e-3) or probs.min() < 0:
        raise DataError("probs rows are not probability vectors (non-negative, summing to 1); "
                        "pass softmax(logits), not logits")


def check_bins(bins: int) -> None:
    if not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"bins={bins!r}; expected an integer >= 1")
