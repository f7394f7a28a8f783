"""The depth bound: ||grad_x J|| <= ||grad_y J|| * prod_l c_l, checked on a given network.

Source 004: for y = f(x) an MLP of L layers, ||grad_x f|| <= ||grad_y f|| * prod_l ||W_l||_op * c_sigma,
with c_sigma the activation's largest slope (1 for ReLU and tanh, 1/4 for the sigmoid); when the c_l are
below 1 the gradient vanishes geometrically with depth (Glorot & Bengio 2010; Hochreiter 1991).
Here y is the network's output (the logits), J the per-example loss, and each layer contributes a
factor that bounds the operator norm of its Jacobian:
  linear: ||W||_op;  activation: its max slope;  residual block x + s * g(x): 1 + s * (bound of g).
The product over a `nn.Sequential` is then a valid bound by the chain rule and submultiplicativity.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.errors import IncompatibleModelError
from limitlab.gradients.norms import check_batch, model_loss
from limitlab.gradients.spectral import spectral_norm
from limitlab.models.resnet_mlp import Residual

GELU_MAX_SLOPE = 1.1289  # max of Phi(x) + x phi(x), at x = sqrt(2), rounded up
MAX_SLOPE: dict[type[nn.Module], float] = {
    nn.ReLU: 1.0, nn.Tanh: 1.0, nn.Sigmoid: 0.25, nn.GELU: GELU_MAX_SLOPE,
    nn.Identity: 1.0, nn.Flatten: 1.0, nn.Dropout: 1.0,  # dropout is the identity in eval mode
}


def layer_factors(module: nn.Module) -> list[float]:
    """One Lipschitz factor per layer, in forward order (the c_l and c_sigma of the bound)."""
    if isinstance(module, nn.Sequential):
        return [f for child in module for f in layer_factors(child)]
    if isinstance(module, Residual):
        return [1.0 + abs(module.scale) * math.prod(layer_factors(module.branch))]
    if isinstance(module, nn.Linear):
        return [spectral_norm(module.weight)]
    if isinstance(module, nn.LeakyReLU):
        return [max(1.0, abs(module.negative_slope))]
    for kind, slope in MAX_SLOPE.items():
        if type(module) is kind:
            return [slope]
    raise IncompatibleModelError(
        f"the gradient bound has no factor for {type(module).__name__}; expected an nn.Sequential of "
        f"Linear, activations ({', '.join(k.__name__ for k in MAX_SLOPE)}) and Residual blocks")


@dataclass
class GradientBound:
    """Per example: the measured ||grad_x J||, ||grad_y J|| at the output, their bound, and the factors."""

    measured: Tensor
    output: Tensor
    bound: Tensor
    factors: list[float]

    @property
    def ratio(self) -> Tensor:
        """measured / bound: never above 1 (up to rounding) if the bound and the gradients are right."""
        return self.measured / self.bound.clamp_min(torch.finfo(self.bound.dtype).tiny)


def gradient_bound(model: nn.Module, x: Tensor, y: Tensor, *,
                   loss_fn: Callable[..., Tensor] = F.cross_entropy) -> GradientBound:
    """Measure ||grad_x J_i|| and its bound for each example i (one forward and one backward pass).

    `loss_fn(logits, y, reduction="none")` gives the per-example loss J_i. Use float64 for a tight check.
    """
    check_batch(model, x, y, loss_fn)
    factors = layer_factors(model)
    with frozen(model), torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        out, loss = model_loss(model, x, y, loss_fn, reduction="none")
        grad_x, grad_y = torch.autograd.grad(loss.sum(), (x, out))
    output = grad_y.flatten(1).norm(dim=1)
    return GradientBound(grad_x.flatten(1).norm(dim=1), output, output * math.prod(factors), factors)
