"""Summaries of a robustness curve (accuracy vs perturbation size), for one curve or B bootstrap curves.

Carlini, Athalye, Papernot, Brendel, Rauber, Tsipras, Goodfellow, Madry, Kurakin. On evaluating
adversarial robustness. arXiv:1902.06705, 2019: report the whole accuracy-vs-eps curve, not one point.
Its summaries here: the accuracy at stated eps, the eps at which the accuracy falls to half the clean
accuracy (linear interpolation between the grid points around the first crossing: a cliff between two
grid points reads as the point where the line crosses, not as the grid point after it), and the area
under the curve over [0, eps_max] divided by eps_max (the mean accuracy over the range; trapezoids).
Curves are arrays (..., k) over an increasing grid whose first point is eps = 0 (the clean accuracy).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from limitlab.errors import ConfigError


def _check(grid: Sequence[float], acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, a = np.asarray(grid, np.float64), np.atleast_2d(np.asarray(acc, np.float64))
    if g.ndim != 1 or len(g) < 2 or g[0] != 0 or np.any(np.diff(g) <= 0) or a.shape[-1] != len(g):
        raise ConfigError(f"grid={list(g)} for curves of length {a.shape[-1]}; expected an increasing grid "
                          "starting at 0 with one accuracy per grid point")
    return g, a


def first_halving_index(grid: Sequence[float], acc: Sequence[float]) -> int | None:
    """Index of the first grid eps > 0 at which the accuracy is <= half the clean one (None if none is)."""
    _, a = _check(grid, np.asarray(acc))
    hits = np.nonzero(a[0, 1:] <= a[0, 0] / 2)[0]
    return int(hits[0]) + 1 if hits.size else None


def halving_eps(grid: Sequence[float], acc: np.ndarray) -> np.ndarray:
    """Per curve, the interpolated eps at which accuracy first reaches half the clean accuracy (NaN if never)."""
    g, a = _check(grid, acc)
    half = a[:, :1] / 2
    below = a[:, 1:] <= half
    k = np.argmax(below, axis=1) + 1  # the first grid point at or below half
    rows = np.arange(len(a))
    a0, a1, e0, e1 = a[rows, k - 1], a[rows, k], g[k - 1], g[k]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(a0 > a1, (a0 - half[:, 0]) / (a0 - a1), 1.0)
    out = e0 + np.clip(t, 0.0, 1.0) * (e1 - e0)
    return np.where(below.any(axis=1) & (a[:, 0] > 0), out, np.nan)


def area(grid: Sequence[float], acc: np.ndarray, *, upto: float | None = None) -> np.ndarray:
    """Per curve, the area under it over [0, upto] (default: the last grid eps) divided by upto."""
    g, a = _check(grid, acc)
    upto = float(g[-1] if upto is None else upto)
    if not g[0] < upto <= g[-1]:
        raise ConfigError(f"upto={upto}; expected 0 < upto <= {g[-1]:g} (the grid's range)")
    cut = np.append(g[g < upto], upto)
    curve = np.stack([np.interp(cut, g, row) for row in a])
    return np.trapezoid(curve, cut, axis=1) / upto


def at(grid: Sequence[float], acc: np.ndarray, points: Sequence[float]) -> np.ndarray:
    """Per curve, the accuracy at each of `points`, which must be grid points: (B, len(points))."""
    g, a = _check(grid, acc)
    missing = [p for p in points if not np.isclose(g, p).any()]
    if missing:
        raise ConfigError(f"eps {missing} are not on the grid {list(g)}; expected grid points")
    return a[:, [int(np.argmin(np.abs(g - p))) for p in points]]
