"""Fixed-weight models for the audit tests, whose behaviour can be worked out by hand."""
from __future__ import annotations

import torch
from torch import Tensor, nn


def binary_linear(w: Tensor, b: float) -> nn.Module:
    """Logits (0, w.x + b): class 1 iff w.x + b > 0 (a tie goes to class 0, argmax's first index)."""
    model = nn.Linear(len(w), 2)
    with torch.no_grad():
        model.weight.copy_(torch.stack([torch.zeros_like(w), w]))
        model.bias.copy_(torch.tensor([0.0, b]))
    return model


class MeanScore(nn.Module):
    """Logits (0, scale * (mean(x) - 0.5)): confident when the mean of the features is far from 0.5."""

    def __init__(self, scale: float = 10.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale))

    def forward(self, x: Tensor) -> Tensor:
        z = self.scale * (x.flatten(1).mean(1) - 0.5)
        return torch.stack([torch.zeros_like(z), z], dim=1)


def dropout_mlp(num_features: int, num_classes: int, *, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(num_features, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, num_classes))
