"""Aleatoric and epistemic variance of a mean-variance regression network under MC dropout.

Kendall, Gal. What uncertainties do we need in Bayesian deep learning for computer vision? NeurIPS 2017,
arXiv:1703.04977, eq. 9: over T dropout passes giving means mu_t and variances s_t, the predictive
variance is mean_t(s_t) (aleatoric: the noise the model predicts) + var_t(mu_t) (epistemic: how much
the sampled models disagree). The model outputs (N, 2) = (mean, variance).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from limitlab.errors import DataError, IncompatibleModelError
from limitlab.uncertainty.mc_dropout import mc_dropout


class Decomposition(NamedTuple):
    mean: Tensor        # (N,) mean of the sampled means
    aleatoric: Tensor   # (N,) mean of the predicted variances
    epistemic: Tensor   # (N,) variance of the sampled means (unbiased, over passes)
    means: Tensor       # (T, N) each pass's predicted means (for resampling the passes)


def aleatoric_epistemic(model: nn.Module, x: Tensor, *, samples: int,
                        generator: torch.Generator | None = None) -> Decomposition:
    """Kendall & Gal's split of the predictive variance at inputs x, from `samples` MC-dropout passes."""
    out = mc_dropout(model, x, samples=samples, softmax=False, generator=generator)
    if out.shape[-1] != 2:
        raise IncompatibleModelError(f"the model outputs {out.shape[-1]} values per input; expected 2 (mean, "
                                     "variance), e.g. limitlab.models.mean_variance.MeanVarianceNet")
    return Decomposition(out[..., 0].mean(0), out[..., 1].mean(0), out[..., 0].var(0), out[..., 0])


def epistemic_ratio(means: Tensor, outside: Tensor, *, num: int = 0,
                    generator: torch.Generator | None = None) -> tuple[float, Tensor]:
    """(mean epistemic variance where `outside` / mean where not, and `num` bootstrap draws of that ratio with
    the T passes resampled: its Monte Carlo noise). `means` (T, N) are the passes' predicted means."""
    if outside.all() or not outside.any():
        raise DataError("outside selects every point or none; expected points both inside and outside the range")

    def ratio(m: Tensor) -> Tensor:
        var = m.var(-2)
        return var[..., outside].mean(-1) / var[..., ~outside].mean(-1).clamp_min(1e-12)

    idx = torch.randint(len(means), (num, len(means)), generator=generator)
    return float(ratio(means)), ratio(means[idx])

