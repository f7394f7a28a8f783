"""Argument checks shared by the OOD metrics."""
from __future__ import annotations

import numpy as np
import torch

from limitlab.errors import DataError


def as_scores(values, name: str) -> np.ndarray:
    """A non-empty, finite 1-D float array."""
    arr = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise DataError(f"{name} has shape {arr.shape}; expected a non-empty 1-D array of scores (one per input)")
    if not np.isfinite(arr).all():
        raise DataError(f"{name} has NaN or infinite values; expected finite scores")
    return arr


def labelled(score_in, score_out) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) with OOD inputs as the positive class (label 1)."""
    s_in, s_out = as_scores(score_in, "score_in"), as_scores(score_out, "score_out")
    labels = np.concatenate([np.zeros(len(s_in)), np.ones(len(s_out))])
    return labels, np.concatenate([s_in, s_out])
