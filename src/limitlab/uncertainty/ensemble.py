"""Deep ensembles: the predictive distribution of M independently initialized and trained networks.

Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty estimation using
deep ensembles. NeurIPS 2017, arXiv:1612.01474. Members differ only by their random initialization
(and data order); their disagreement on an input is a measure of model (epistemic) uncertainty.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.errors import ConfigError, IncompatibleModelError


@torch.no_grad()
def ensemble(models: Sequence[nn.Module], x: Tensor) -> Tensor:
    """Softmax outputs of each member in eval mode, shape (M, N, C); each model's mode is restored."""
    models = list(models)
    if not models:
        raise ConfigError("models is empty; expected a sequence of at least one trained nn.Module")
    out = []
    for i, model in enumerate(models):
        with frozen(model):
            out.append(torch.softmax(model(x), dim=-1))
        if out[-1].shape != out[0].shape:
            raise IncompatibleModelError(f"ensemble member {i} outputs shape {tuple(out[-1].shape)}, member 0 "
                                         f"{tuple(out[0].shape)}; expected members with the same classes")
    return torch.stack(out)
