"""scikit-learn's bundled tabular sets, and missing values injected at random or not at random.

Missingness mechanisms (Rubin 1976; Little, Rubin. Statistical analysis with missing data, 2019):
MCAR, missing completely at random (whether a value is missing does not depend on any value), and
MNAR, missing not at random (here self-masking: the larger a value, the likelier it is missing, as
when a sensor saturates or a high reading goes unreported).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine

from limitlab.errors import ConfigError, DataError

LOADERS = {"breast-cancer": load_breast_cancer, "wine": load_wine}
Mechanism = Literal["mcar", "mnar"]
MECHANISMS: tuple[Mechanism, ...] = ("mcar", "mnar")


def tabular(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A bundled classification table: (x float64 N x D, y int64 N, feature names)."""
    if name not in LOADERS:
        raise ConfigError(f"unknown tabular set {name!r}; valid: {', '.join(LOADERS)}")
    bunch = LOADERS[name]()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64), tuple(bunch.feature_names)


def inject_missing(x: np.ndarray, *, rate: float, mechanism: Mechanism,
                   rng: np.random.Generator) -> np.ndarray:
    """A copy of `x` with exactly `round(rate * N)` values set to NaN in every column.

    "mcar": the missing rows of each column are drawn uniformly. "mnar": they are drawn with
    probability proportional to the value's rank in its column (rank 1 = smallest), so large values
    go missing more often and the fact of being missing says something about the value.
    """
    if mechanism not in MECHANISMS:
        raise ConfigError(f"missingness mechanism {mechanism!r}; valid: {', '.join(MECHANISMS)}")
    if not 0.0 <= rate < 1.0:
        raise ConfigError(f"missing rate={rate}; expected 0 <= rate < 1")
    x = np.array(x, dtype=np.float64)
    if x.ndim != 2 or np.isnan(x).any():
        raise DataError(f"x has shape {x.shape} and {int(np.isnan(x).sum())} NaNs; expected a complete N x D table")
    n = len(x)
    k = round(rate * n)
    ranks = x.argsort(axis=0, kind="stable").argsort(axis=0) + 1.0  # 1..n within each column
    for j in range(x.shape[1]):  # a loop over columns (tens), not samples
        p = None if mechanism == "mcar" else ranks[:, j] / ranks[:, j].sum()
        x[rng.choice(n, size=k, replace=False, p=p), j] = np.nan
    return x
