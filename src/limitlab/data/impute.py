"""Two ways to hand a table with missing values (NaN) to a model that needs numbers.

Little, Rubin. Statistical analysis with missing data, 3rd ed., 2019. Zero-fill silently reads "missing"
as the value 0; mean imputation with missing-indicator features fills each column with its training
mean and adds one 0/1 column per feature saying it was missing, so a model can learn from the pattern
of missingness itself (which carries information when values are missing not at random).
"""
from __future__ import annotations

import numpy as np


def zero_fill(x: np.ndarray) -> np.ndarray:
    """`x` with every NaN replaced by 0."""
    return np.where(np.isnan(x), 0.0, x)


def mean_with_indicators(x: np.ndarray, train_rows: np.ndarray) -> np.ndarray:
    """[x with NaNs replaced by the column means over `train_rows` | 0/1 missing indicators]: N x 2D."""
    miss = np.isnan(x)
    means = np.nanmean(x[train_rows], axis=0)
    return np.hstack([np.where(miss, means, x), miss.astype(np.float64)])
