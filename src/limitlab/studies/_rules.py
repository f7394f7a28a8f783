"""None-safe arithmetic for a study's `judge`: a threshold built from a metric that was not measured is None.

    at_most(pgd, times(clean, 0.5))       # None (never holds) when clean accuracy was not measured
(`limitlab.result` has the comparisons `at_least` / `at_most`, `every` and `fmt`.)
"""
from __future__ import annotations

from collections.abc import Iterable


def plus(value: float | None, delta: float) -> float | None:
    """value + delta, or None."""
    return None if value is None else value + delta


def times(value: float | None, factor: float) -> float | None:
    """value * factor, or None."""
    return None if value is None else value * factor


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of `values`, or None if any was not measured (a mean over a set with a hole is not that mean)."""
    values = list(values)
    return None if not values or None in values else sum(values) / len(values)  # type: ignore[arg-type]
