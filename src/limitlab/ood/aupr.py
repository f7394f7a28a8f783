"""Area under the precision-recall curve (average precision) for out-of-distribution detection.

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (AUPR-In and AUPR-Out). Unlike AUROC it depends on
the proportion of OOD inputs: its chance level is the fraction of positives.
"""
from __future__ import annotations

from typing import Literal

from sklearn.metrics import average_precision_score

from limitlab.errors import ConfigError
from limitlab.ood._scores import Scores, labelled


def aupr(score_in: Scores, score_out: Scores, *, positive: Literal["out", "in"] = "out") -> float:
    """Average precision with OOD inputs as positives ("out") or in-distribution ones ("in")."""
    if positive not in ("out", "in"):
        raise ConfigError(f"positive={positive!r}; expected 'out' or 'in'")
    labels, scores = labelled(score_in, score_out)
    if positive == "in":
        labels, scores = 1 - labels, -scores
    return float(average_precision_score(labels, scores))
