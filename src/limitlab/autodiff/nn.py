"""Layers on the autodiff engine: `Linear` and `MLP`, enough to train a classifier on digits."""
from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from limitlab.autodiff.tensor import Tensor
from limitlab.errors import ConfigError

ACTIVATIONS = ("relu", "tanh", "sigmoid")


class Module:
    """Anything with parameters: `parameters()` lists them, `zero_grad()` clears their gradients."""

    def parameters(self) -> list[Tensor]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.data.size for p in self.parameters())

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class Linear(Module):
    """y = x W + b, with W of shape (in, out) and He-uniform initialization (PyTorch's default scale)."""

    def __init__(self, in_features: int, out_features: int, *, rng: np.random.Generator) -> None:
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(rng.uniform(-bound, bound, (in_features, out_features)))
        self.bias = Tensor(rng.uniform(-bound, bound, (out_features,)))

    def parameters(self) -> list[Tensor]:
        return [self.weight, self.bias]

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias


class MLP(Module):
    """Linear layers of the given `sizes` (input first, classes last) with `act` between them."""

    def __init__(self, sizes: Sequence[int], *, act: str = "relu", rng: np.random.Generator) -> None:
        if len(sizes) < 2 or min(sizes) < 1:
            raise ConfigError(f"MLP sizes={tuple(sizes)}; expected at least (inputs, outputs), all >= 1")
        if act not in ACTIVATIONS:
            raise ConfigError(f"MLP act={act!r}; expected one of {', '.join(ACTIVATIONS)}")
        self.act = act
        self.layers = [Linear(a, b, rng=rng) for a, b in pairwise(sizes)]

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = getattr(x, self.act)()
        return x
