"""Integrated gradients.

Sundararajan, Taly, Yan. Axiomatic attribution for deep networks. ICML 2017, arXiv:1703.01365.
IG_i(x) = (x_i - x'_i) * integral_0^1 d F(x' + a (x - x')) / d x_i da, for a baseline x' (here by
default the blank image). It satisfies completeness: sum_i IG_i = F(x) - F(x'). The integral is a
quadrature over `steps` points of the straight path: "right" is the paper's right Riemann sum (error
O(1/steps)); "midpoint" (the default) and "trapezoid" have error O(1/steps^2). Captum's
`IntegratedGradients` computes the same sums with method="riemann_right" / "riemann_middle" /
"riemann_trapezoid" (its default, Gauss-Legendre, uses other points and weights).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.attribution._common import Target, check_baseline, check_x, resolve_target, score_gradient
from limitlab.errors import ConfigError

METHODS = ("midpoint", "trapezoid", "right", "left")


def quadrature(method: str, steps: int) -> tuple[Tensor, Tensor]:
    """Points a in [0, 1] on the path and their weights for the integral over a."""
    if method not in METHODS:
        raise ConfigError(f"method={method!r}; expected one of {', '.join(METHODS)}")
    _checks.integer("steps", steps, low=2 if method == "trapezoid" else 1)
    k = torch.arange(steps, dtype=torch.float64)
    if method == "trapezoid":
        weights = torch.full((steps,), 1.0 / (steps - 1), dtype=torch.float64)
        weights[[0, -1]] /= 2
        return k / (steps - 1), weights
    offset = {"midpoint": 0.5, "right": 1.0, "left": 0.0}[method]
    return (k + offset) / steps, torch.full((steps,), 1.0 / steps, dtype=torch.float64)


def integrated_gradients(
    model: nn.Module, x: Tensor, *, target: Target = None, baseline: float | Tensor = 0.0, steps: int = 32,
    method: str = "midpoint", internal_batch_size: int = 4096,
) -> Tensor:
    """Attributions of the shape of x whose sum per input is F(x) - F(baseline) up to the quadrature error.

    `target` defaults to the class predicted for x; `baseline` is a number or a tensor that broadcasts
    to x. The `steps` path points of every input go through the model in batches of at most
    `internal_batch_size` inputs.
    """
    check_x(x, model)
    alphas, weights = quadrature(method, steps)
    base = check_baseline(baseline, x).expand_as(x)
    _checks.integer("internal_batch_size", internal_batch_size)
    x = x.detach()
    delta = x - base
    total = torch.zeros_like(x)
    # Whole path points at a time: each chunk holds every input at `per_chunk` values of a.
    per_chunk = max(1, internal_batch_size // len(x))
    with frozen(model):
        target = resolve_target(model, x, target)
        for start in range(0, steps, per_chunk):
            a = alphas[start:start + per_chunk].to(x.dtype).view(-1, *([1] * x.dim()))
            w = weights[start:start + per_chunk].to(x.dtype).view(-1, *([1] * x.dim()))
            path = (base + a * delta).flatten(0, 1)
            grads = score_gradient(model, path, target.repeat(len(a))).view(len(a), *x.shape)
            total += (w * grads).sum(dim=0)
    return (delta * total).detach()
