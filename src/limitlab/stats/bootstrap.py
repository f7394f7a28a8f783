"""The percentile bootstrap, by resampling weights: one matrix product instead of B Python calls.

Efron, Tibshirani. An introduction to the bootstrap. Chapman & Hall 1993 (ch. 13, the percentile
interval). A resample of n inputs drawn with replacement is a vector of counts w (summing to n);
every statistic the audit reports (a mean, ECE's bin sums, AUROC's rank sums, a curve of accuracies)
is a weighted function of per-input values, so all B resamples are computed at once from a (B, n)
matrix of counts (`limitlab.stats.weighted`). With w = 1 the weighted statistic is the plain one.
"""
from __future__ import annotations

import numpy as np

from limitlab.errors import ConfigError

NUM = 1000  # resamples: percentile intervals at 95% move by about 0.01 of their width between runs
LEVEL = 0.95


def resample_weights(n: int, *, num: int = NUM, rng: np.random.Generator) -> np.ndarray:
    """(num, n) float64 counts: row b says how often resample b draws each of the n inputs."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 1 or n < 1:
        raise ConfigError(f"num={num!r} resamples of n={n} inputs; expected both >= 1")
    return rng.multinomial(n, np.full(n, 1.0 / n), size=num).astype(np.float64)


def percentile_interval(samples: np.ndarray, *, level: float = LEVEL) -> tuple[float, float] | None:
    """The central `level` interval of the finite bootstrap samples (None if fewer than half are finite:
    the statistic is undefined on too many resamples to be trusted)."""
    if not 0 < level < 1:
        raise ConfigError(f"level={level}; expected a confidence level between 0 and 1, e.g. 0.95")
    s = np.asarray(samples, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size == 0 or 2 * s.size < np.asarray(samples).size:
        return None
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(s, [tail, 100 - tail])
    return float(lo), float(hi)
