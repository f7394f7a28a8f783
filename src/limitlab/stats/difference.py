"""Intervals for the difference of two independent proportions (e.g. one slice's accuracy against the rest's).

Newcombe. Interval estimation for the difference between independent proportions: comparison of eleven
methods. Statistics in Medicine 17, 1998 (method 10, the hybrid score interval: each proportion's Wilson
interval, combined by the square-root rule). Wilson. Probable inference, the law of succession, and
statistical inference. JASA 22, 1927. Unlike the Wald interval it keeps close to its level at small n and
at proportions near 0 or 1, which is where a slice of a few dozen inputs with high accuracy sits. Both
take arrays of counts (one interval per entry), so every slice's interval is one call.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm

from limitlab.errors import ConfigError, DataError


def _counts(k, n) -> tuple[np.ndarray, np.ndarray]:
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n) or np.any(k != np.round(k)) or np.any(n != np.round(n)):
        raise DataError(f"k={k.tolist()}, n={n.tolist()}; expected integer counts with 0 <= k <= n and n >= 1")
    return k, n


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ConfigError(f"level={level}; expected a confidence level between 0 and 1, e.g. 0.95")
    return float(norm.ppf(1 - (1 - level) / 2))


def wilson(k, n, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): the Wilson score interval of k successes in n trials (arrays, elementwise)."""
    k, n = _counts(k, n)
    z = _z(level)
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def newcombe(k1, n1, k2, n2, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(delta, lo, hi) for delta = k1 / n1 - k2 / n2: Newcombe's hybrid score interval (arrays, elementwise)."""
    (k1, n1), (k2, n2) = _counts(k1, n1), _counts(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, level=level)
    l2, u2 = wilson(k2, n2, level=level)
    delta = p1 - p2
    return delta, delta - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), delta + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
