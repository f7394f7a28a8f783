"""How often a model reads inputs as a given class once they are transformed: the measure of EOT.

Athalye, Engstrom, Ilyas, Kwok. Synthesizing robust adversarial examples. ICML 2018, arXiv:1707.07397:
an adversarial example is robust to a distribution of transformations T when the model still assigns
the target class to t(x_adv) for fresh draws t ~ T (never the ones the attack optimized over). Each
input is transformed `draws` times, independently; the result is each input's rate over its draws, so a
caller can average it and compute its standard error over inputs (the draws of one input are not independent
evidence about the attack).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import ConfigError, DataError


def rate_under_transform(model: nn.Module, x: Tensor, label: Tensor, *, transform: TransformDistribution,
                         draws: int, generator: torch.Generator | None = None) -> Tensor:
    """Per input (N,), the fraction of `draws` fresh transformations the model classifies as `label`."""
    if draws < 1:
        raise ConfigError(f"draws={draws}; expected >= 1")
    if label.shape != x.shape[:1]:
        raise DataError(f"label has shape {tuple(label.shape)}; expected one label per input ({len(x)},)")
    reps = x.repeat(draws, *([1] * (x.dim() - 1)))
    views = transform.sample(len(reps), shape=tuple(x.shape[1:]), generator=generator)(reps)
    with frozen(model), torch.no_grad():
        hits = (model(views).argmax(1) == label.repeat(draws)).double()
    return hits.view(draws, len(x)).mean(0)
