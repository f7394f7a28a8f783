"""Maximum softmax probability: the baseline confidence score.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in
neural networks. ICLR 2017, arXiv:1610.02136. Confidence = max_c p(c|x); low confidence flags an
input as out-of-distribution (use 1 - max_softmax as an OOD score, higher = more unusual).
"""
from __future__ import annotations

from torch import Tensor

from limitlab import _checks
from limitlab.uncertainty.entropy import mean_probs


def max_softmax(probs: Tensor) -> Tensor:
    """max_c p(c|x) per input, shape (N,); (samples, N, C) inputs are averaged over samples first."""
    return mean_probs(_checks.probs(probs)).max(dim=-1).values
