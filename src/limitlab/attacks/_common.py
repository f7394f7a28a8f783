"""What every attack shares: the entrance checks, the loss and its input gradient, the random start and
the projections onto the eps-ball and the input bounds. The one attack loop is `pgd`'s."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab import _checks
from limitlab.errors import ConfigError, DataError, IncompatibleModelError

NORMS = ("inf", "2")
# grad_fn(model, x, y) -> d J / dx: the gradient of the loss an attack ascends (descends if targeted).
GradFn = Callable[[nn.Module, Tensor, Tensor], Tensor]


def check_inputs(model: nn.Module, x: Tensor, y: Tensor, bounds: tuple[float, float], **nonneg: float
                 ) -> tuple[float, float]:
    """One-line errors for an attack's model, inputs, labels, bounds and sizes; returns the bounds."""
    _checks.module(model)
    _checks.tensor(x, "x", min_dim=2, finite=False)
    _checks.labels(y, len(x))
    lo, hi = _checks.bounds(bounds)
    x_lo, x_hi = (float(v) for v in torch.aminmax(x))  # one pass for the range and (NaN propagates) finiteness
    if not (math.isfinite(x_lo) and math.isfinite(x_hi)):
        raise _checks.nonfinite("x", x)
    if x_lo < lo - 1e-6 or x_hi > hi + 1e-6:
        raise DataError(f"x has values in [{x_lo:g}, {x_hi:g}] outside bounds={tuple(bounds)}; "
                        "expected inputs inside the bounds: pass the bounds your inputs use")
    for name, value in nonneg.items():
        _checks.number(name, value, low=0)
    return lo, hi


def check_norm(norm: str) -> str:
    name = str(norm).lower().removeprefix("l")
    if name not in NORMS:
        raise ConfigError(f"norm={norm!r}; expected one of {', '.join(NORMS)}")
    return name


def gradient_of(loss: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """d loss(x) / dx, also inside a caller's torch.no_grad() block. A NaN or infinite loss is refused:
    its gradient would be NaN, whose sign is 0, so the attack would silently not move."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        value = loss(x)
        if not bool(torch.isfinite(value)):
            raise IncompatibleModelError(f"the attack's loss is {float(value.detach())} on finite inputs; expected "
                                         "a finite loss: the model outputs NaN or Inf (check its weights)")
        (grad,) = torch.autograd.grad(value, x)
    return grad


def cross_entropy(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The cross-entropy of the model's logits with y, summed over inputs (so that each input's
    gradient does not depend on the batch size)."""
    out = _checks.logits(model(x), len(x), what="the attacked model")
    try:
        return F.cross_entropy(out, y, reduction="sum")
    except IndexError:  # a label >= C: torch's message names no argument; checking first costs a sync per step
        raise DataError(f"y has labels up to {int(y.max())}; expected class labels in 0..{out.shape[1] - 1} "
                        f"(the model has {out.shape[1]} classes)") from None


def loss_gradient(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The default `grad_fn`: d/dx of the summed cross-entropy with the labels (or targets) y."""
    return gradient_of(lambda v: cross_entropy(model, v, y), x)


def _flat_norm(t: Tensor) -> Tensor:
    """Per-example L2 norm, shaped to broadcast against `t`."""
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def l2_normalize(t: Tensor) -> Tensor:
    return t / _flat_norm(t)


def sample_ball(x: Tensor, *, eps: float, norm: str, generator: torch.Generator) -> Tensor:
    """A uniform sample of the eps-ball (L-inf: a cube; L2: uniform in volume, direction and radius). Drawn on the
    CPU (where the generator is) and moved to x's device: a seed gives the same start on any device."""
    if norm == "inf":
        return (torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device) * 2 - 1) * eps
    direction = l2_normalize(torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device))
    dim = x[0].numel()
    radius = torch.rand(len(x), generator=generator, dtype=x.dtype).to(x.device) ** (1.0 / dim) * eps
    return direction * radius.view(-1, *([1] * (x.dim() - 1)))


def project(delta: Tensor, *, eps: float, norm: str) -> Tensor:
    """Project each perturbation onto the eps-ball of the norm."""
    if norm == "inf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _flat_norm(delta)).clamp(max=1.0)


def clip_to_bounds(x: Tensor, delta: Tensor, bounds: tuple[float, float]) -> Tensor:
    """The perturbation that keeps x + delta inside the input bounds."""
    return (x + delta).clamp(*bounds) - x
