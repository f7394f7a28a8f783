"""False-positive rate at a fixed true-positive rate (FPR at 95% TPR) for out-of-distribution detection.

Liang, Li, Srikant. Enhancing the reliability of out-of-distribution image detection in neural
networks (ODIN). ICLR 2018, arXiv:1706.02690. Accept inputs whose score is at most a threshold set so
that a fraction `tpr` of the in-distribution inputs is accepted; the FPR is the fraction of OOD inputs
that are accepted too (lower is better: 0 is perfect, a random score gives `tpr`).
"""
from __future__ import annotations

import math

import numpy as np

from limitlab import _checks
from limitlab.ood._scores import Scores, as_scores


def fpr_at_tpr(score_in: Scores, score_out: Scores, *, tpr: float = 0.95) -> float:
    """Fraction of OOD scores <= the smallest threshold that accepts >= `tpr` of the in-distribution scores."""
    tpr = _checks.number("tpr", tpr, low=0, high=1, low_open=True)
    s_in, s_out = as_scores(score_in, "score_in"), as_scores(score_out, "score_out")
    k = math.ceil(tpr * len(s_in) - 1e-9)  # accept the k lowest in-distribution scores
    threshold = np.sort(s_in)[k - 1]
    return float(np.mean(s_out <= threshold))
