"""Small None-safe helpers for a study's `judge`: a metric that was not measured is None, never a crash.

    parts = {"flip": all_of([at_most(eps, 0.3), at_most(pgd, half)])}   # None if any side is None
    text = f"PGD accuracy {num(m['acc'], '.1%')}"                        # "23.3%" or "n/a"
"""
from __future__ import annotations

from collections.abc import Iterable


def num(value: float | None, spec: str = ".3f") -> str:
    """`value` formatted with `spec`, or "n/a" when it was not measured."""
    return "n/a" if value is None else format(value, spec)


def all_of(checks: Iterable[bool | None]) -> bool | None:
    """True if every check holds, False if one is False, None if none is False but one was not measured."""
    checks = list(checks)
    if False in checks:
        return False
    return None if None in checks else True


def plus(value: float | None, delta: float) -> float | None:
    """value + delta, None-safe (a threshold built from a measured number)."""
    return None if value is None else value + delta


def times(value: float | None, factor: float) -> float | None:
    """value * factor, None-safe."""
    return None if value is None else value * factor


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of `values`, or None if any was not measured (a mean over a set with a hole is not that mean)."""
    values = list(values)
    return None if not values or None in values else sum(values) / len(values)  # type: ignore[arg-type]
