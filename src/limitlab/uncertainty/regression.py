"""Aleatoric and epistemic variance of a mean-variance regression network under MC dropout.

Kendall, Gal. What uncertainties do we need in Bayesian deep learning for computer vision? NeurIPS 2017,
arXiv:1703.04977, eq. 9: over T dropout passes giving means mu_t and variances s_t, the predictive
variance is mean_t(s_t) (aleatoric: the noise the model predicts) + var_t(mu_t) (epistemic: how much
the sampled models disagree). The model outputs (N, 2) = (mean, variance).
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn

from limitlab.errors import IncompatibleModelError
from limitlab.uncertainty.mc_dropout import mc_dropout


class Decomposition(NamedTuple):
    mean: Tensor        # (N,) mean of the sampled means
    aleatoric: Tensor   # (N,) mean of the predicted variances
    epistemic: Tensor   # (N,) variance of the sampled means (unbiased, over passes)


def aleatoric_epistemic(model: nn.Module, x: Tensor, *, samples: int, seed: int | None = None) -> Decomposition:
    """Kendall & Gal's split of the predictive variance at inputs x, from `samples` MC-dropout passes."""
    out = mc_dropout(model, x, samples=samples, softmax=False, seed=seed)
    if out.shape[-1] != 2:
        raise IncompatibleModelError(f"the model outputs {out.shape[-1]} values per input; expected 2 (mean, "
                                     "variance), e.g. limitlab.models.mean_variance.MeanVarianceNet")
    return Decomposition(out[..., 0].mean(0), out[..., 1].mean(0), out[..., 0].var(0))

