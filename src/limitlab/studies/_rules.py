"""None-safe arithmetic for a study's `judge`: a threshold built from a metric that was not measured is None.

    at_most(pgd, times(clean, 0.5), noise=margin(m, "pgd_acc"))  # None (never holds) if clean was not measured
(`limitlab.result` has the comparisons `at_least` / `at_most`, `every` and `fmt`.) And the noise floors that
a rule's margins must exceed.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from torch import Tensor

from limitlab.result import MetricValues


def plus(value: float | None, delta: float) -> float | None:
    """value + delta, or None."""
    return None if value is None else value + delta


def times(value: float | None, factor: float) -> float | None:
    """value * factor, or None."""
    return None if value is None else value * factor


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of `values`, or None if any was not measured (a mean over a set with a hole is not that mean)."""
    values = list(values)
    known = [v for v in values if v is not None]
    return None if not values or len(known) < len(values) else sum(known) / len(known)


# Noise floors. A part of a rule holds only when its margin exceeds the noise floor of the measured number, and
# over seeds also the seed-to-seed spread (`margin`). The floor of a mean of n values is two standard errors
# (about a 95% interval's half-width); of a difference of two measurements on the same inputs, two standard
# errors of the per-input difference (paired: the shared inputs' noise cancels).

def binomial_noise(p: float | None, n: int) -> float | None:
    """Two binomial standard errors of an accuracy (or rate) p measured on n independent inputs."""
    return None if p is None or n < 1 else 2 * math.sqrt(max(p * (1 - p), 0.0) / n)


def mean_noise(values: Tensor) -> float | None:
    """Two standard errors of the mean of per-input `values` (N,)."""
    return None if values.numel() < 2 else float(2 * values.double().std() / math.sqrt(values.numel()))


def paired_noise(a: Tensor, b: Tensor) -> float | None:
    """Two standard errors of mean(a) - mean(b), for per-input values (e.g. 0/1 correctness) on the same inputs."""
    return mean_noise(a.double() - b.double())


def margin(m: MetricValues, name: str) -> float | None:
    """What a comparison of metric `name` must clear: the larger of its noise floor and its spread over seeds
    (the spread exists only when `judge` reads means over seeds)."""
    metric = m.metric(name) if isinstance(m, MetricValues) else None
    floors = [v for v in (metric.noise, metric.spread) if v is not None] if metric is not None else []
    return max(floors) if floors else None
