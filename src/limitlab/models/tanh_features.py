"""A one-hidden-layer tanh network built as in the universal approximation proofs: fixed hidden units,
evenly spaced and steeper as their number grows, and an output layer fitted by least squares.

Hornik, Stinchcombe, White. Multilayer feedforward networks are universal approximators. Neural
Networks 1989. f(x) = sum_j a_j tanh(s (x - c_j)) + a_0 on [-1, 1], centers c_j = -1 + (2j + 1) / n,
steepness s = `steepness` * n: finer and steeper units as n grows, so the sum can follow any
continuous function on the interval.
"""
from __future__ import annotations

import numpy as np


def features(x: np.ndarray, width: int, steepness: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tanh(s (x - c_j)) for evenly spaced c_j, plus a constant column; and s, c for the derivative."""
    centers = -1 + (2 * np.arange(width) + 1) / width
    s = steepness * width
    return np.concatenate([np.tanh(s * (x[:, None] - centers)), np.ones((len(x), 1))], 1), np.full(width, s), centers


def fit_output_layer(x: np.ndarray, y: np.ndarray, *, width: int, steepness: float) -> np.ndarray:
    """The output weights (a_1..a_n, a_0) that fit y at the points x in least squares."""
    return np.linalg.lstsq(features(x, width, steepness)[0], y, rcond=None)[0]


def forward(x: np.ndarray, a: np.ndarray, *, steepness: float) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) of the network with output weights `a`; f'(x) = sum_j a_j s (1 - tanh^2(s (x - c_j)))."""
    phi, s, _ = features(x, len(a) - 1, steepness)
    return phi @ a, ((1 - phi[:, :-1] ** 2) * s) @ a[:-1]
