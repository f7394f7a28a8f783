"""Per-layer gradient norms: how much of the loss's gradient reaches each layer's weights.

Glorot, Bengio. Understanding the difficulty of training deep feedforward networks. AISTATS 2010
(back-propagated gradients shrink layer by layer in deep sigmoid networks). Source 004.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.errors import ConfigTypeError, DataError, IncompatibleModelError


def check_batch(model: nn.Module, x: Tensor, y: Tensor, loss_fn: Callable[..., Tensor]) -> None:
    """The gradient probes' inputs: a module, a finite float batch, one target per input, a loss function."""
    _checks.module(model)
    _checks.tensor(x, "x", min_dim=2)
    if not isinstance(y, Tensor) or y.dim() < 1 or len(y) != len(x):
        raise DataError(f"y is {_checks.describe(y)}; expected a tensor of {len(x)} targets (one per input)")
    if not y.is_floating_point():
        _checks.labels(y, len(x))
    if not callable(loss_fn):
        raise ConfigTypeError(f"loss_fn is {_checks.describe(loss_fn)}; expected a function "
                              "(outputs, y, reduction=...) -> loss, e.g. F.cross_entropy")


def model_loss(model: nn.Module, x: Tensor, y: Tensor, loss_fn: Callable[..., Tensor], **kw: str
               ) -> tuple[Tensor, Tensor]:
    """(outputs, loss) with class labels checked against the number of outputs before the loss sees them."""
    out = model(x)
    if not y.is_floating_point() and isinstance(out, Tensor) and out.dim() == 2:
        _checks.labels(y, len(x), num_classes=out.shape[1])
    return out, loss_fn(out, y, **kw)


def linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """Every `nn.Linear` of `model` by qualified name, in registration (= forward, for a stack) order."""
    layers = {name: m for name, m in _checks.module(model).named_modules() if isinstance(m, nn.Linear)}
    if not layers:
        raise IncompatibleModelError(f"{type(model).__name__} has no nn.Linear layer; expected a model with "
                                     "nn.Linear layers: the gradient probes measure fully connected layers")
    return layers


def layer_gradient_norms(model: nn.Module, x: Tensor, y: Tensor, *,
                         loss_fn: Callable[..., Tensor] = F.cross_entropy) -> dict[str, float]:
    """||d loss / d W_l||_F for the weight of every linear layer, the loss averaged over the batch.

    dJ/dW = sum over rows of (dJ/d out)^T (layer input), from forward hooks on each layer: this works for
    parametrized weights too (e.g. kept orthogonal), whose `.weight` is recomputed at every access.
    Runs in eval mode; `.grad` fields, modes and `requires_grad` flags are left as they were.
    """
    check_batch(model, x, y, loss_fn)
    layers = linear_layers(model)
    calls: list[tuple[str, Tensor, Tensor]] = []

    def keep(name: str):
        return lambda module, inputs, output: calls.append((name, inputs[0], output))

    handles = [m.register_forward_hook(keep(name)) for name, m in layers.items()]
    try:
        with frozen(model), torch.enable_grad():
            _, loss = model_loss(model, x.detach().clone().requires_grad_(True), y, loss_fn)
            grads = torch.autograd.grad(loss, [out for _, _, out in calls])
    finally:
        for h in handles:
            h.remove()
    total = {name: torch.zeros_like(m.weight, dtype=x.dtype) for name, m in layers.items()}
    for (name, inp, _), g in zip(calls, grads):
        total[name] += g.reshape(-1, g.shape[-1]).T @ inp.detach().reshape(-1, inp.shape[-1])
    return {name: float(w.norm()) for name, w in total.items()}
