"""Models with exactly one thing wrong, for the planted-problem tests (Giskard's pattern)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.save_for_backward(factor)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        (factor,) = ctx.saved_tensors
        return grad * factor.view(-1, *([1] * (grad.dim() - 1))), None


class GradientLie(nn.Module):
    """Identity forward; the backward pass scales each input's gradient by `on` where the input is one of the
    clean inputs `data` (and `select` holds for it), by `off` anywhere else: gradients that lie exactly where
    an attack starts, or only once it has moved."""

    def __init__(self, model: nn.Module, data: Tensor, *, on: float, off: float, select=None) -> None:
        super().__init__()
        self.model, self.data, self.on, self.off, self.select = model, data.flatten(1), on, off, select

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            where = torch.cdist(x.flatten(1), self.data).amin(1) < 1e-6
            if self.select is not None:
                where &= self.select(x)
        factor = torch.where(where, self.on, self.off).to(x.dtype)
        return self.model(_Scale.apply(x, factor))


class RandomForward(nn.Module):
    """Dropout applied whatever the mode: a forward pass that differs every time."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(F.dropout(x, 0.2, training=True))


class BatchCentred(nn.Module):
    """Subtracts the batch's mean input: each output depends on the other inputs of its batch."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x - x.mean(0, keepdim=True) + 0.3)


class SqrtInput(nn.Module):
    """sqrt of the input first: an infinite gradient at every zero pixel (NaN once multiplied by 0)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(torch.sqrt(x))


class NarrowBump(nn.Module):
    """2 classes on feature 0 alone: class 1 only in a thin slab |t - 0.6| < ~0.011 around a wide Gaussian
    bump, whose gradient leads PGD there; with steps larger than the slab PGD steps over it."""

    def forward(self, x: Tensor) -> Tensor:
        t = x[:, 0]
        z1 = 1.1 * torch.exp(-(((t - 0.6) / 0.05) ** 2)) - 1.05
        return torch.stack([torch.zeros_like(z1), z1], dim=1)
