"""Expected and maximum calibration error, and the reliability diagram's data.

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599.
Top-label confidences are grouped into `bins` equal-width bins on [0, 1] (a confidence of exactly a
bin edge goes to the lower bin, as in Guo et al.: bin m holds confidences in ((m-1)/M, m/M]);
ECE = sum_m |B_m|/N * |acc(B_m) - conf(B_m)|; MCE = max_m over non-empty bins.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from limitlab import _checks


@dataclass(frozen=True)
class Reliability:
    """Per-bin data of a reliability diagram; empty bins have count 0 and NaN accuracy/confidence."""

    edges: Tensor       # (bins + 1,)
    counts: Tensor      # (bins,)
    accuracy: Tensor    # (bins,) accuracy of the predictions in each bin
    confidence: Tensor  # (bins,) mean top-label confidence in each bin


def reliability(probs: Tensor, y: Tensor, *, bins: int = 15) -> Reliability:
    """Bin the top-label confidence and compare it with the accuracy in each bin."""
    _checks.probs(probs, dims=(2,), y=y)
    _checks.integer("bins", bins)
    conf, pred = probs.max(dim=1)
    correct = (pred == y).to(probs.dtype)
    edges = torch.linspace(0, 1, bins + 1, dtype=probs.dtype, device=probs.device)
    # bucketize with right=False puts a value equal to an edge in the bin that ends there.
    index = (torch.bucketize(conf, edges[1:-1], right=False)).clamp(0, bins - 1)
    counts = torch.bincount(index, minlength=bins).to(probs.dtype)
    acc_sum = torch.zeros(bins, dtype=probs.dtype, device=probs.device).index_add_(0, index, correct)
    conf_sum = torch.zeros(bins, dtype=probs.dtype, device=probs.device).index_add_(0, index, conf)
    safe = counts.clamp_min(1)
    nan = torch.full_like(counts, float("nan"))
    return Reliability(edges, counts.long(), torch.where(counts > 0, acc_sum / safe, nan),
                       torch.where(counts > 0, conf_sum / safe, nan))


def ece(probs: Tensor, y: Tensor, *, bins: int = 15) -> float:
    """Expected calibration error (top label, equal-width bins)."""
    r = reliability(probs, y, bins=bins)
    gap = (r.accuracy - r.confidence).abs().nan_to_num(0.0)
    return float((r.counts.to(gap.dtype) * gap).sum() / r.counts.sum())


def mce(probs: Tensor, y: Tensor, *, bins: int = 15) -> float:
    """Maximum calibration error over the non-empty bins."""
    r = reliability(probs, y, bins=bins)
    gap = (r.accuracy - r.confidence).abs()
    return float(gap[r.counts > 0].max())
