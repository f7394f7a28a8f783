"""Per-layer gradient norms: how much of the loss's gradient reaches each layer's weights.

Glorot, Bengio. Understanding the difficulty of training deep feedforward networks. AISTATS 2010
(back-propagated gradients shrink layer by layer in deep sigmoid networks). Source 004.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.errors import IncompatibleModelError


def linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """Every `nn.Linear` of `model` by qualified name, in registration (= forward, for a stack) order."""
    layers = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    if not layers:
        raise IncompatibleModelError(f"{type(model).__name__} has no nn.Linear layer; "
                                     "the gradient probes measure fully connected layers")
    return layers


def layer_gradient_norms(model: nn.Module, x: Tensor, y: Tensor, *,
                         loss_fn: Callable[..., Tensor] = F.cross_entropy) -> dict[str, float]:
    """||d loss / d W_l||_F for the weight of every linear layer, the loss averaged over the batch.

    dJ/dW = sum over rows of (dJ/d out)^T (layer input), from forward hooks on each layer: this works for
    parametrized weights too (e.g. kept orthogonal), whose `.weight` is recomputed at every access.
    Runs in eval mode; `.grad` fields, modes and `requires_grad` flags are left as they were.
    """
    layers = linear_layers(model)
    calls: list[tuple[str, Tensor, Tensor]] = []

    def keep(name: str):
        return lambda module, inputs, output: calls.append((name, inputs[0], output))

    handles = [m.register_forward_hook(keep(name)) for name, m in layers.items()]
    try:
        with frozen(model), torch.enable_grad():
            loss = loss_fn(model(x.detach().clone().requires_grad_(True)), y)
            grads = torch.autograd.grad(loss, [out for _, _, out in calls])
    finally:
        for h in handles:
            h.remove()
    total = {name: torch.zeros_like(m.weight, dtype=x.dtype) for name, m in layers.items()}
    for (name, inp, _), g in zip(calls, grads):
        total[name] += g.reshape(-1, g.shape[-1]).T @ inp.detach().reshape(-1, inp.shape[-1])
    return {name: float(w.norm()) for name, w in total.items()}
