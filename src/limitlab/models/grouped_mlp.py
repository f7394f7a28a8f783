"""Several independent scalar MLPs trained as one module (batched matrix products), one per target.

`GroupedMLP(num_groups=G)` maps x of shape (B, 1) to (B, G): output g is its own fully connected
network of x with no weights shared with the others, so fitting G functions costs one training loop.
Weights are stacked per group and applied with `torch.baddbmm`, about five times faster on a CPU than
grouped 1x1 convolutions.
"""
from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import Tensor, nn

from limitlab.errors import ConfigError
from limitlab.models.zoo import activation


class GroupedMLP(nn.Module):
    """G independent MLPs R -> R with `depth` hidden layers of `hidden` units each."""

    def __init__(self, *, num_groups: int, hidden: int = 64, depth: int = 2, act: str = "relu") -> None:
        super().__init__()
        if min(num_groups, hidden, depth) < 1:
            raise ConfigError(f"GroupedMLP num_groups={num_groups}, hidden={hidden}, depth={depth}; expected >= 1")
        sizes = [1] + [hidden] * depth + [1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in pairwise(sizes):
            bound = 1 / math.sqrt(fan_in)  # nn.Linear's default initialization, per group
            self.weights.append(nn.Parameter(torch.empty(num_groups, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(num_groups, 1, fan_out).uniform_(-bound, bound)))
        self.act = activation(act)
        self.num_groups = num_groups

    def forward(self, x: Tensor) -> Tensor:
        h = x.reshape(1, -1, 1).expand(self.num_groups, -1, 1)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if k < len(self.weights) - 1:
                h = self.act(h)
        return h[..., 0].T
