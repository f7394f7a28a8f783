"""What one training step's loss keeps for backward, and how often an ODE block evaluates its function.

Chen, Rubanova, Bettencourt, Duvenaud. Neural ordinary differential equations. NeurIPS 2018,
arXiv:1806.07366 (source 004: backprop through L blocks stores O(L) activations; the adjoint method
O(1)). The bytes are counted exactly by `saved_tensor_bytes` (distinct storages, the model's parameters
excluded); the function evaluations (NFE) by the counter of the model's first `ODEBlock`.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from limitlab.gradients.memory import saved_tensor_bytes
from limitlab.models.ode_net import ODEBlock


def ode_block(model: nn.Module) -> ODEBlock | None:
    """The model's first ODE block, or None."""
    return next((m for m in model.modules() if isinstance(m, ODEBlock)), None)


def step_memory(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                loss_fn: Callable[..., torch.Tensor] = F.cross_entropy) -> tuple[int, int, int]:
    """(bytes saved for backward, NFE forward, NFE backward) of one loss on (x, y); 0 NFE without an ODE block.

    The backward pass is run (to count its evaluations) and the parameters' `.grad` cleared afterwards.
    """
    block = ode_block(model)
    if block is not None:
        block.func.nfe = 0
    with saved_tensor_bytes(exclude=model.parameters()) as saved:
        loss = loss_fn(model(x), y)
    nfe_fwd = block.func.nfe if block is not None else 0
    if block is not None:
        block.func.nfe = 0
    loss.backward()
    nfe_bwd = block.func.nfe if block is not None else 0
    model.zero_grad(set_to_none=True)
    return saved.bytes, nfe_fwd, nfe_bwd


def line_deviation(xs: list[int], ys: list[int]) -> float:
    """How far saved bytes `ys` over steps `xs` are from linear growth: the largest distance from the straight line
    through the first and last points, over the largest y."""
    slope = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    return max(abs(y - (ys[0] + slope * (x - xs[0]))) for x, y in zip(xs, ys, strict=True)) / max(ys)
