"""Entropy-based uncertainty of sampled predictive distributions (in nats).

Gal. Uncertainty in deep learning. PhD thesis, Cambridge 2016, sec. 3.3; Houlsby, Huszar, Ghahramani,
Lengyel. Bayesian active learning for classification and preference learning. arXiv:1112.5745 (BALD).
With p_t(y|x) the T sampled distributions and p(y|x) their mean:
  predictive entropy  H[p]                 = total uncertainty
  expected entropy    mean_t H[p_t]        = aleatoric part (what each sample is unsure of)
  mutual information  H[p] - mean_t H[p_t] = epistemic part (disagreement between samples), >= 0.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab import _checks


def mean_probs(probs: Tensor) -> Tensor:
    """The predictive distribution: the mean over samples of (samples, N, C), or (N, C) as given."""
    return probs.mean(dim=0) if probs.dim() == 3 else probs


def _entropy(p: Tensor) -> Tensor:
    return -torch.special.xlogy(p, p).sum(dim=-1)  # 0 log 0 = 0


def predictive_entropy(probs: Tensor) -> Tensor:
    """H[mean_t p_t] per input, shape (N,); `probs` is (samples, N, C) or (N, C)."""
    return _entropy(mean_probs(_checks.probs(probs)))


def expected_entropy(probs: Tensor) -> Tensor:
    """mean_t H[p_t] per input, shape (N,); `probs` is (samples, N, C)."""
    return _entropy(_checks.probs(probs, dims=(3,))).mean(dim=0)


def mutual_information(probs: Tensor) -> Tensor:
    """H[mean_t p_t] - mean_t H[p_t] per input (clamped at 0 against rounding), shape (N,)."""
    probs = _checks.probs(probs, dims=(3,))
    return (predictive_entropy(probs) - expected_entropy(probs)).clamp_min(0.0)
