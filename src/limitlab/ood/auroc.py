"""Area under the ROC curve for out-of-distribution detection.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in
neural networks. ICLR 2017, arXiv:1610.02136. AUROC = P(score of a random OOD input > score of a
random in-distribution input), ties counted one half: 0.5 is chance, 1 perfect separation.
"""
from __future__ import annotations

from sklearn.metrics import roc_auc_score

from limitlab.ood._scores import Scores, labelled


def auroc(score_in: Scores, score_out: Scores) -> float:
    """AUROC of telling OOD inputs (positives) from in-distribution ones; higher score = more OOD."""
    labels, scores = labelled(score_in, score_out)
    return float(roc_auc_score(labels, scores))
