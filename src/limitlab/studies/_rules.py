"""None-safe arithmetic for a study's `judge`: a threshold built from a metric that was not measured is None.

    at_most(pgd, times(clean, 0.5), noise=margin(m, "pgd_acc"))  # None (never holds) if clean was not measured
(`limitlab.result` has the comparisons `at_least` / `at_most`, `every` and `fmt`.) And the noise floors that
a rule's margins must exceed.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from limitlab.result import MetricValues, standard_error
from limitlab.result import decided as decided  # a rule's three-way comparison, beside the floors it reads


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


def values_noise(values: Iterable[float | None]) -> float | None:
    """Two standard errors of the mean of `values`, one number per replica (a search seed, a sample, a test
    sequence); None below two measured values."""
    se = standard_error(values)
    return None if se is None else 2 * se


def mean_noise(values: Tensor) -> float | None:
    """Two standard errors of the mean of per-input `values` (N,)."""
    return None if values.numel() < 2 else float(2 * values.double().std() / math.sqrt(values.numel()))


def paired_noise(a: Tensor, b: Tensor) -> float | None:
    """Two standard errors of mean(a) - mean(b), for per-input values (e.g. 0/1 correctness) on the same inputs."""
    return mean_noise(a.double() - b.double())


def means_noise(a: Tensor, b: Tensor, *, paired: bool = False) -> float | None:
    """Two standard errors of mean(a) - mean(b) for per-replica values (e.g. one number per trained model): paired
    (a[k] and b[k] from the same model k) or independent arms of any sizes (the standard errors add in quadrature).
    None when an arm has fewer than two replicas."""
    if paired:
        return mean_noise(a.double() - b.double())
    if min(a.numel(), b.numel()) < 2:
        return None
    return float(2 * math.sqrt(a.double().var() / a.numel() + b.double().var() / b.numel()))


def draws_noise(diff: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Per-digit paired differences `diff` (draws x digits) of models trained on several random draws of the training
    data, each scored on the digits it held out (`held`, draws x digits, True where scored): (each draw's mean
    difference, the noise floor of their mean). The floor is the larger of two standard errors over the draws (the luck
    of a draw, which no number of test digits sees) and two standard errors over the digits (each digit's difference
    averaged over the draws that held it out); None with fewer than two draws."""
    w = held.astype(np.float64)
    total = np.where(held, diff, 0.0)
    per_draw, seen = total.sum(1) / w.sum(1), w.sum(0) > 0
    over_digits = mean_noise(torch.from_numpy(total.sum(0)[seen] / w.sum(0)[seen]))
    if len(per_draw) < 2 or over_digits is None:
        return per_draw, None
    return per_draw, max(float(2 * per_draw.std(ddof=1) / math.sqrt(len(per_draw))), over_digits)


def margin(m: MetricValues, name: str) -> float | None:
    """What a comparison of metric `name` must clear: the larger of its noise floor and its spread over seeds
    (the spread exists only when `judge` reads means over seeds)."""
    metric = m.metric(name) if isinstance(m, MetricValues) else None
    floors = [v for v in (metric.noise, metric.spread) if v is not None] if metric is not None else []
    return max(floors) if floors else None
