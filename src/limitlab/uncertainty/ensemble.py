"""Deep ensembles: the predictive distribution of M independently initialized and trained networks.

Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty estimation using
deep ensembles. NeurIPS 2017, arXiv:1612.01474. Members differ only by their random initialization
(and data order); their disagreement on an input is a measure of model (epistemic) uncertainty.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.errors import ConfigError, ConfigTypeError, IncompatibleModelError


@torch.no_grad()
def ensemble(models: Sequence[nn.Module], x: Tensor) -> Tensor:
    """Softmax outputs of each member in eval mode, shape (M, N, C); each model's mode is restored."""
    if (isinstance(models, nn.Module) and not isinstance(models, nn.ModuleList)) or isinstance(models, Tensor) \
            or not isinstance(models, Iterable):
        raise ConfigTypeError(f"models is {_checks.describe(models)}; expected a list of trained nn.Modules "
                              "(for one model: [model])")
    models = [_checks.module(m, f"models[{i}]") for i, m in enumerate(models)]
    if not models:
        raise ConfigError("models is empty; expected a sequence of at least one trained nn.Module")
    x = _checks.tensor(x, "x", min_dim=2)
    out = []
    for i, model in enumerate(models):
        with frozen(model):
            out.append(torch.softmax(_checks.logits(model(x), len(x), what=f"ensemble member {i}"), dim=-1))
        if out[-1].shape != out[0].shape:
            raise IncompatibleModelError(f"ensemble member {i} outputs shape {tuple(out[-1].shape)}, member 0 "
                                         f"{tuple(out[0].shape)}; expected members with the same classes")
    return torch.stack(out)
