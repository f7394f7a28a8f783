"""Projected gradient descent (PGD) in L-inf or L2.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial
attacks. ICLR 2018, arXiv:1706.06083 (MNIST: eps 0.3, 40 steps of 0.01, random start). Each step
ascends the loss (sign of the gradient in L-inf, the unit-L2 gradient in L2), then projects back onto
the eps-ball around x and into the input bounds. Targeted: descends the loss of the target class.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks._common import (
    check_inputs, check_norm, clip_to_bounds, l2_normalize, loss_gradient, project,
)
from limitlab.errors import ConfigError


def sample_ball(x: Tensor, *, eps: float, norm: str, generator: torch.Generator | None) -> Tensor:
    """A uniform sample of the eps-ball (L-inf: a cube; L2: uniform in volume, direction and radius)."""
    if norm == "inf":
        return (torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1) * eps
    direction = l2_normalize(torch.randn(x.shape, generator=generator, dtype=x.dtype))
    dim = x[0].numel()
    radius = torch.rand(len(x), generator=generator, dtype=x.dtype) ** (1.0 / dim) * eps
    return direction * radius.view(-1, *([1] * (x.dim() - 1)))


def pgd(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, step_size: float, steps: int,
    norm: str = "inf", random_start: bool = False, targeted: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
) -> Tensor:
    """`steps` projected gradient steps of `step_size` inside the `norm` ball of radius `eps` around x."""
    check_inputs(x, y, bounds, eps=eps, step_size=step_size)
    norm = check_norm(norm)
    if steps < 1:
        raise ConfigError(f"steps={steps}; expected >= 1")
    delta = torch.zeros_like(x)
    if random_start:
        delta = clip_to_bounds(x, sample_ball(x, eps=eps, norm=norm, generator=generator), bounds)
    with frozen(model):
        for _ in range(steps):
            grad = loss_gradient(model, x + delta, y, targeted=targeted)
            step = grad.sign() if norm == "inf" else l2_normalize(grad)
            delta = clip_to_bounds(x, project(delta + step_size * step, eps=eps, norm=norm), bounds)
    return (x + delta).detach()

