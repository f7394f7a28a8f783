"""The uncertainty scores of a classifier by name: higher = more unusual (an OOD or error score).

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (1 - max softmax). Gal, Ghahramani. ICML 2016,
arXiv:1506.02142 (the predictive entropy and mutual information of MC-dropout passes). Lakshminarayanan,
Pritzel, Blundell. NeurIPS 2017, arXiv:1612.01474 (the predictive entropy of a deep ensemble).
"""
from __future__ import annotations

from torch import Tensor

from limitlab.uncertainty.entropy import mutual_information, predictive_entropy
from limitlab.uncertainty.max_softmax import max_softmax

SCORES = ("max-softmax", "mc-entropy", "mc-mi", "ens-entropy")


def uncertainty_scores(probs: Tensor, *, mc: Tensor | None = None, ensemble: Tensor | None = None
                       ) -> dict[str, Tensor]:
    """Scores (N,) from the model's probabilities (N, C), MC-dropout passes (T, N, C) and ensemble members
    (M, N, C): "max-softmax" always, the "mc-*" scores with `mc`, "ens-entropy" with `ensemble`."""
    out = {"max-softmax": 1 - max_softmax(probs)}
    if mc is not None:
        out |= {"mc-entropy": predictive_entropy(mc), "mc-mi": mutual_information(mc)}
    if ensemble is not None:
        out["ens-entropy"] = predictive_entropy(ensemble)
    return out
