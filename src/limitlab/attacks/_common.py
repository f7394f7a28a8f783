"""What every attack shares: argument checks, the loss gradient with respect to the input, projections."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab.errors import ConfigError, DataError

NORMS = ("inf", "2")


def check_inputs(x: Tensor, y: Tensor, bounds: tuple[float, float], **nonneg: float) -> None:
    """One-line errors for inputs an attack cannot use."""
    if not x.is_floating_point():
        raise DataError(f"x has dtype {x.dtype}; expected a floating-point tensor (e.g. x.float())")
    if y.shape != x.shape[:1] or y.is_floating_point():
        raise DataError(f"y has shape {tuple(y.shape)} and dtype {y.dtype}; expected integer labels of shape ({len(x)},)")
    lo, hi = bounds
    if lo >= hi:
        raise ConfigError(f"bounds={bounds}; expected (low, high) with low < high")
    if x.numel() and (float(x.min()) < lo - 1e-6 or float(x.max()) > hi + 1e-6):
        raise DataError(f"x has values in [{float(x.min()):g}, {float(x.max()):g}] outside bounds={bounds}; "
                        "pass the bounds your inputs use")
    for name, value in nonneg.items():
        if not value >= 0:
            raise ConfigError(f"{name}={value}; expected a number >= 0")


def check_norm(norm: str) -> str:
    norm = str(norm).lower().removeprefix("l")
    if norm not in NORMS:
        raise ConfigError(f"norm={norm!r}; expected one of {', '.join(NORMS)}")
    return norm


def loss_gradient(model: nn.Module, x: Tensor, y: Tensor, *, targeted: bool) -> Tensor:
    """d(loss)/dx for each input, signed so that adding it helps the attacker.

    Untargeted: the gradient of the cross-entropy with the true label (ascend it). Targeted: minus the
    gradient of the cross-entropy with the target label (descend it). The loss is summed, not averaged,
    so each input's gradient does not depend on the batch size.
    """
    with torch.enable_grad():  # attacks work inside a caller's torch.no_grad() block too
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return -grad if targeted else grad


def _flat_norm(t: Tensor) -> Tensor:
    """Per-example L2 norm, shaped to broadcast against `t`."""
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def l2_normalize(t: Tensor) -> Tensor:
    return t / _flat_norm(t)


def project(delta: Tensor, *, eps: float, norm: str) -> Tensor:
    """Project each perturbation onto the eps-ball of the norm."""
    if norm == "inf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _flat_norm(delta)).clamp(max=1.0)


def clip_to_bounds(x: Tensor, delta: Tensor, bounds: tuple[float, float]) -> Tensor:
    """The perturbation that keeps x + delta inside the input bounds."""
    return (x + delta).clamp(*bounds) - x
