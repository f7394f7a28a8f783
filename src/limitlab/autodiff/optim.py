"""Stochastic gradient descent (with optional heavy-ball momentum) for the autodiff engine."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from limitlab.autodiff.tensor import Tensor
from limitlab.errors import ConfigError


class SGD:
    """p <- p - lr * v, with v <- momentum * v + grad (PyTorch's convention; momentum=0 is plain SGD)."""

    def __init__(self, params: Sequence[Tensor], *, lr: float, momentum: float = 0.0) -> None:
        if not lr > 0 or not 0 <= momentum < 1:
            raise ConfigError(f"SGD lr={lr}, momentum={momentum}; expected lr > 0 and 0 <= momentum < 1")
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for p, v in zip(self.params, self.velocity):
            if p.grad is None:
                continue
            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v
