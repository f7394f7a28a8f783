"""Weighted versions of the audit's statistics, vectorized over a (B, n) matrix of bootstrap counts.

Each takes weights w (B, n) and the per-input values, and returns B statistics; with w = 1 each is
the plain statistic, and with integer w it equals the plain statistic on the inputs repeated w times
(the tests check that against scikit-learn and `limitlab.calibration`).
- `auroc`: P(out > in) + P(tie) / 2 (Hanley, McNeil. Radiology 1982: the Mann-Whitney form).
- `aupr`: average precision (sklearn's step-wise area under the precision-recall curve) with the
  in-distribution inputs as the positives (Hendrycks, Gimpel's AUPR-In), or the OOD ones ("out").
- `fpr_at_tpr`: the share of OOD weight at or below the threshold that accepts `tpr` of the in-distribution
  weight (Liang et al. ICLR 2018, as `limitlab.ood.fpr_at_tpr`).
- `ece`: Guo et al. ICML 2017's top-label ECE with equal-width bins (a bin holds ((m-1)/M, m/M]).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from limitlab.errors import ConfigError


def _one_hot(index: np.ndarray, width: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(len(index)), (np.arange(len(index)), index)), shape=(len(index), width))


def _rows(w: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(w, dtype=np.float64))


def auroc(w_in: np.ndarray, s_in: np.ndarray, w_out: np.ndarray, s_out: np.ndarray) -> np.ndarray:
    """AUROC of telling OOD inputs (scored higher) from in-distribution ones, per row of weights."""
    s_in, s_out = np.asarray(s_in, np.float64), np.asarray(s_out, np.float64)
    values, inverse = np.unique(np.concatenate([s_in, s_out]), return_inverse=True)
    k = len(values)
    c_in = _rows(w_in) @ _one_hot(inverse[:len(s_in)], k)  # weight of in-scores at each distinct value
    c_out = _rows(w_out) @ _one_hot(inverse[len(s_in):], k)
    below = np.cumsum(c_in, axis=1) - c_in
    wins = (c_out * (below + 0.5 * c_in)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (c_in.sum(axis=1) * c_out.sum(axis=1))


def aupr(w_in: np.ndarray, s_in: np.ndarray, w_out: np.ndarray, s_out: np.ndarray, *,
         positive: str = "in") -> np.ndarray:
    """Average precision per row of weights; OOD scores are higher. `positive="in"`: the in-distribution inputs
    are the class to find (ranked by lower score first), "out": the OOD ones (higher score first)."""
    if positive not in ("in", "out"):
        raise ConfigError(f"positive={positive!r}; expected 'in' (AUPR-In) or 'out' (AUPR-Out)")
    if positive == "out":
        return aupr(w_out, -np.asarray(s_out, np.float64), w_in, -np.asarray(s_in, np.float64))
    s_in, s_out = np.asarray(s_in, np.float64), np.asarray(s_out, np.float64)
    values, inverse = np.unique(np.concatenate([s_in, s_out]), return_inverse=True)  # thresholds, most "in" first
    c_in = _rows(w_in) @ _one_hot(inverse[:len(s_in)], len(values))
    c_out = _rows(w_out) @ _one_hot(inverse[len(s_in):], len(values))
    tp, fp = np.cumsum(c_in, axis=1), np.cumsum(c_out, axis=1)  # accepted at or below each threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(c_in > 0, tp / (tp + fp), 0.0)  # only where recall steps up
        return (c_in * precision).sum(axis=1) / tp[:, -1]


def fpr_at_tpr(w_in: np.ndarray, s_in: np.ndarray, w_out: np.ndarray, s_out: np.ndarray, *,
               tpr: float = 0.95) -> np.ndarray:
    """Share of OOD weight with score <= the smallest in-score whose cumulative weight reaches `tpr`."""
    w_in, w_out = _rows(w_in), _rows(w_out)
    order_in, order_out = np.argsort(s_in, kind="stable"), np.argsort(s_out, kind="stable")
    sorted_in, sorted_out = np.asarray(s_in, np.float64)[order_in], np.asarray(s_out, np.float64)[order_out]
    cum_in = np.cumsum(w_in[:, order_in], axis=1)
    need = np.ceil(tpr * cum_in[:, -1:] - 1e-9)
    threshold = sorted_in[np.argmax(cum_in >= need, axis=1)]
    cum_out = np.concatenate([np.zeros((len(w_out), 1)), np.cumsum(w_out[:, order_out], axis=1)], axis=1)
    pos = np.searchsorted(sorted_out, threshold, side="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.take_along_axis(cum_out, pos[:, None], axis=1)[:, 0] / cum_out[:, -1]


def confidence_bins(confidence: np.ndarray, *, bins: int = 15) -> sparse.csr_matrix:
    """(n, bins) one-hot of each confidence's equal-width bin (an edge value goes to the bin below)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return _one_hot(np.clip(np.searchsorted(edges[1:-1], confidence, side="left"), 0, bins - 1), bins)


def ece(w: np.ndarray, confidence: np.ndarray, correct: np.ndarray, *, bins: int = 15) -> np.ndarray:
    """Top-label expected calibration error per row of weights."""
    conf = np.asarray(confidence, np.float64)
    hot = confidence_bins(conf, bins=bins)
    w = _rows(w)
    gap = w @ hot.multiply(np.asarray(correct, np.float64)[:, None]) - w @ hot.multiply(conf[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(gap).sum(axis=1) / w.sum(axis=1)
