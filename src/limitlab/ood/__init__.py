"""Out-of-distribution detection and selective prediction metrics.

Scores follow one convention: higher = more out-of-distribution (e.g. predictive entropy, or
1 - max softmax). `auroc`, `aupr` and `fpr_at_tpr` compare the scores of in-distribution inputs
with those of OOD inputs; `rejection_curve` gives accuracy on the inputs kept after rejecting the
most uncertain fraction.
"""
from limitlab.ood.aupr import aupr
from limitlab.ood.auroc import auroc
from limitlab.ood.fpr_at_tpr import fpr_at_tpr
from limitlab.ood.rejection import rejection_curve

__all__ = ["aupr", "auroc", "fpr_at_tpr", "rejection_curve"]
