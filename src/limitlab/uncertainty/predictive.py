"""The three predictive distributions of a deep ensemble of dropout networks, on the same inputs.

Gal, Ghahramani. ICML 2016, arXiv:1506.02142 (MC dropout); Lakshminarayanan, Pritzel, Blundell. NeurIPS 2017,
arXiv:1612.01474 (deep ensembles). Member 0 is "the" model: its eval-mode probabilities, its MC-dropout
passes, and every member's probabilities, for comparing one network with its two Bayesian approximations.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from limitlab.uncertainty.ensemble import ensemble
from limitlab.uncertainty.mc_dropout import mc_dropout


def predictive(models: Sequence[nn.Module], x: Tensor, *, mc_samples: int,
               generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """{"det": (N, C) member 0 in eval mode, "mc": (T, N, C) its MC-dropout passes (masks drawn from
    `generator`), "ens": (M, N, C) every member in eval mode}."""
    members = ensemble(models, x)
    mc = mc_dropout(models[0], x, samples=mc_samples, generator=generator)
    return {"det": members[0], "mc": mc, "ens": members}


SOURCE = {"max-softmax": "det", "mc-entropy": "mc", "mc-mi": "mc", "ens-entropy": "ens"}  # each score's predictor


def predictions(probs: dict[str, Tensor]) -> dict[str, Tensor]:
    """The class each predictor of `predictive` predicts: the argmax of its (mean) probabilities."""
    return {k: (p if k == "det" else p.mean(0)).argmax(-1) for k, p in probs.items()}
