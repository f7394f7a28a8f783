"""Exact (Clopper-Pearson) confidence intervals for a proportion, such as an accuracy.

Clopper, Pearson. The use of confidence or fiducial limits illustrated in the case of the binomial.
Biometrika 26(4), 1934. For k successes in n trials the two-sided interval at level 1 - a is
[Beta(a/2; k, n - k + 1), Beta(1 - a/2; k + 1, n - k)] (Beta quantiles), with 0 at k = 0 and 1 at k = n.
It never covers less than its level, so "the interval lies above the threshold" is a safe test
even on a few dozen inputs, where the normal approximation is not.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import beta

from limitlab.errors import ConfigError, DataError


def clopper_pearson(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """The exact interval for k successes out of n trials."""
    if not 0 < level < 1:
        raise ConfigError(f"level={level}; expected a confidence level between 0 and 1, e.g. 0.95")
    if isinstance(k, bool) or not 0 <= int(k) <= int(n) or int(n) < 1:
        raise DataError(f"k={k}, n={n}; expected counts with 0 <= k <= n and n >= 1")
    k, n, tail = int(k), int(n), (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - tail, k + 1, n - k))
    return lo, hi


def proportion(flags: torch.Tensor | np.ndarray, *, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """(share of true flags, its Clopper-Pearson interval)."""
    a = flags.detach().cpu().numpy() if isinstance(flags, torch.Tensor) else np.asarray(flags)
    a = a.astype(bool).ravel()
    if a.size == 0:
        raise DataError("flags is empty; expected one flag per input")
    k = int(a.sum())
    return k / a.size, clopper_pearson(k, a.size, level=level)
