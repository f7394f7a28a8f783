"""Argument checks shared by the OOD metrics: scores are array-likes (tensors, numpy arrays, lists)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from limitlab._checks import describe
from limitlab.errors import DataError, DataTypeError

Scores = torch.Tensor | np.ndarray | Sequence[float]  # one number per input


def as_array(values: object, name: str) -> np.ndarray:
    """`values` (a tensor or an array-like of numbers) as a 1-D float64 array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if values is None or isinstance(values, (str, bytes)):
        raise DataTypeError(f"{name} is {describe(values)}; expected a 1-D tensor or array of numbers, one per input")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):  # strings, None, ragged lists: numpy's own messages name no argument
        raise DataTypeError(f"{name} is {describe(values)}; expected a 1-D tensor or array of numbers, one "
                            "per input") from None
    if arr.ndim != 1 or arr.size == 0:
        raise DataError(f"{name} has shape {arr.shape}; expected a non-empty 1-D array of scores (one per input)")
    return arr


def as_scores(values: object, name: str) -> np.ndarray:
    """A non-empty, finite 1-D float array."""
    arr = as_array(values, name)
    if not np.isfinite(arr).all():
        raise DataError(f"{name} has {int((~np.isfinite(arr)).sum())} NaN or infinite values; expected finite "
                        "scores: drop or impute them first")
    return arr


def labelled(score_in: Scores, score_out: Scores) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) with OOD inputs as the positive class (label 1)."""
    s_in, s_out = as_scores(score_in, "score_in"), as_scores(score_out, "score_out")
    labels = np.concatenate([np.zeros(len(s_in)), np.ones(len(s_out))])
    return labels, np.concatenate([s_in, s_out])
