"""Projected gradient descent (PGD) in L-inf or L2: the one attack loop.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial
attacks. ICLR 2018, arXiv:1706.06083 (MNIST: eps 0.3, 40 steps of 0.01, random start). Each step
ascends the loss (sign of the gradient in L-inf, the unit-L2 gradient in L2), then projects back onto
the eps-ball around x and into the input bounds. Targeted: descends the loss of the target class.

The loop follows foolbox's `gradient_descent_base.py` without its class hierarchy: the gradient is a
function argument (`grad_fn`), the normalization, projection and random start are per-norm functions.
FGSM is this loop with one step of size eps; EOT-PGD is this loop with an EOT gradient; a BPDA or
gradient-free estimate is another `grad_fn`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.attacks._common import (
    GradFn,
    check_inputs,
    check_norm,
    clip_to_bounds,
    l2_normalize,
    loss_gradient,
    project,
    sample_ball,
)
from limitlab.errors import ConfigError, ConfigTypeError

__all__ = ["pgd", "sample_ball"]


def pgd(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, step_size: float, steps: int,
    norm: str = "inf", random_start: bool = False, targeted: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
    grad_fn: GradFn | None = None,
) -> Tensor:
    """`steps` projected gradient steps of `step_size` inside the `norm` ball of radius `eps` around x.

    `y` is the target if targeted. `generator` draws the random start (None: torch's global generator).
    `grad_fn(model, x_adv, y) -> dJ/dx` replaces the gradient of the summed cross-entropy (the default);
    it is called with the model frozen in eval mode and must return a tensor of x's shape.
    """
    bounds = check_inputs(model, x, y, bounds, eps=eps, step_size=step_size)
    norm = check_norm(norm)
    _checks.integer("steps", steps, low=1)
    random_start, targeted = _checks.flag("random_start", random_start), _checks.flag("targeted", targeted)
    generator = _checks.as_generator(generator)
    if grad_fn is None:
        grad_fn = loss_gradient
    elif not callable(grad_fn):
        raise ConfigTypeError(f"grad_fn is {_checks.describe(grad_fn)}; expected a function "
                              "(model, x, y) -> gradient of x's shape, or None for the cross-entropy gradient")
    delta = torch.zeros_like(x)
    if random_start:
        delta = clip_to_bounds(x, sample_ball(x, eps=eps, norm=norm, generator=generator), bounds)
    with frozen(model):
        for _ in range(steps):
            grad = grad_fn(model, x + delta, y)
            if not isinstance(grad, Tensor) or grad.shape != x.shape:
                raise ConfigError(f"grad_fn returned {_checks.describe(grad)}; expected a gradient of x's shape "
                                  f"{tuple(x.shape)}")
            if targeted:
                grad = -grad
            step = grad.sign() if norm == "inf" else l2_normalize(grad)
            delta = clip_to_bounds(x, project(delta + step_size * step, eps=eps, norm=norm), bounds)
    return (x + delta).detach()
