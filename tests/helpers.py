"""Small fixed-weight models whose outputs and gradients can be worked out by hand."""
from __future__ import annotations

import torch
from torch import nn


def linear_model(num_features: int = 4, num_classes: int = 3, *, seed: int = 0) -> nn.Module:
    """Logistic regression on flat inputs, with seeded weights."""
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(num_features, num_classes))
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(num_classes, num_features, generator=gen))
        model[1].bias.copy_(torch.randn(num_classes, generator=gen))
    return model


def small_cnn(*, seed: int = 0) -> nn.Module:
    """A small convolutional net with dropout and batch norm (mode changes are observable)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
                         nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
