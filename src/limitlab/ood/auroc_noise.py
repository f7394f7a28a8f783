"""The sampling noise of OOD-detection AUROCs on a finite number of inputs.

Hanley, McNeil. The meaning and use of the area under a receiver operating characteristic (ROC) curve.
Radiology 1982: the standard error of an AUROC A from n_out positives and n_in negatives, with
Q1 = A / (2 - A) and Q2 = 2 A^2 / (1 + A). For the difference between two detectors scored on the same
inputs (correlated, so the closed form does not apply) and averaged over several OOD sets, the paired
bootstrap (Efron 1979): the in-distribution inputs and each OOD set are resampled with replacement, the same
resample for both detectors.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from limitlab.errors import ConfigError, DataError


def auroc_se(auc: float, n_in: int, n_out: int) -> float:
    """Hanley & McNeil's standard error of an AUROC `auc` measured on n_in in-distribution and n_out OOD inputs."""
    if n_in < 1 or n_out < 1 or not 0 <= auc <= 1:
        raise DataError(f"auc={auc}, n_in={n_in}, n_out={n_out}; expected an AUROC in [0, 1] and counts >= 1")
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_out - 1) * (q1 - auc ** 2) + (n_in - 1) * (q2 - auc ** 2)) / (n_in * n_out)
    return math.sqrt(max(var, 0.0))


def _auroc_rows(s_in: Tensor, s_out: Tensor) -> Tensor:
    """AUROC per row of (B, n_in) and (B, n_out) scores: P(out > in) + P(out = in) / 2."""
    sorted_in = s_in.sort(dim=1).values.contiguous()
    below = torch.searchsorted(sorted_in, s_out.contiguous(), right=False)
    at_most = torch.searchsorted(sorted_in, s_out.contiguous(), right=True)
    return (below + at_most).double().mean(1) / (2 * s_in.shape[1])


def mean_auroc_gap_bootstrap(a_in: Tensor, a_out: Sequence[Tensor], b_in: Tensor, b_out: Sequence[Tensor], *,
                             num: int = 200, generator: torch.Generator | None = None) -> Tensor:
    """`num` bootstrap draws (float64) of mean AUROC(a) - mean AUROC(b) over the OOD sets, where detector a
    scores the in-distribution inputs `a_in` and each set `a_out[k]` (detector b likewise, on the same inputs)."""
    if num < 2 or len(a_out) != len(b_out) or not a_out or a_in.shape != b_in.shape:
        raise ConfigError(f"num={num}, {len(a_out)} and {len(b_out)} OOD sets; expected num >= 2 and the same "
                          "inputs scored by both detectors")
    idx_in = torch.randint(len(a_in), (num, len(a_in)), generator=generator)
    gap = torch.zeros(num, dtype=torch.float64)
    for sa, sb in zip(a_out, b_out):
        if sa.shape != sb.shape:
            raise DataError(f"OOD scores of shapes {tuple(sa.shape)} and {tuple(sb.shape)}; expected the same inputs")
        idx = torch.randint(len(sa), (num, len(sa)), generator=generator)
        gap += _auroc_rows(a_in[idx_in], sa[idx]) - _auroc_rows(b_in[idx_in], sb[idx])
    return gap / len(a_out)
