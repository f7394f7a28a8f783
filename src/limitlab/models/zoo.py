"""The model zoo: small networks for 8x8 digits, built by name from keyword options.

`build("cnn", dropout=0.25)` looks the name up in `MODELS`; an unknown name or option is a
ConfigError that lists the valid ones (as torchdiffeq's SOLVERS table does).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from limitlab.errors import ConfigError
from limitlab.models.layers import ACTIVATIONS, activation  # noqa: F401  (re-exported)
from limitlab.models.ode_net import ode_net
from limitlab.models.resnet_mlp import resnet_mlp


def logreg(*, in_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10) -> nn.Module:
    """Multinomial logistic regression: flatten, one linear layer (the shallow softmax model)."""
    in_features = 1
    for d in in_shape:
        in_features *= d
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes))


def mlp(
    *, in_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10, hidden: Sequence[int] = (128, 128),
    act: str = "relu", dropout: float = 0.0,
) -> nn.Module:
    """Fully connected network; dropout (if > 0) after every hidden activation."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 1
    for d in in_shape:
        width *= d
    for h in hidden:
        layers += [nn.Linear(width, h), activation(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


class CNN(nn.Module):
    """Two 3x3 convolutions, 2x2 max-pool, a dense layer: `features` (for Grad-CAM) then `classifier`."""

    def __init__(self, *, in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (16, 32),
                 hidden: int = 64, dropout: float = 0.25, image_size: int = 8) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
        )
        self.pool = nn.MaxPool2d(2)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * (image_size // 2) ** 2, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.pool(self.features(channels_last(x))))


def channels_last(x: Tensor) -> Tensor:
    """`x` (N, C, H, W) copied into channels-last memory: oneDNN then keeps every activation channels-last,
    and its CPU max-pool is several times faster that way. A one-channel image's strides are ambiguous,
    so `x.contiguous(memory_format=torch.channels_last)` may keep the default layout; set them explicitly.
    Only the memory layout changes, not a value (and the copy is differentiable)."""
    _, c, h, w = x.shape
    return torch.empty_strided(x.shape, (c * h * w, 1, w * c, c), dtype=x.dtype, device=x.device).copy_(x)


def cnn(*, in_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10, channels: Sequence[int] = (16, 32),
        hidden: int = 64, dropout: float = 0.25) -> nn.Module:
    return CNN(in_channels=in_shape[0], num_classes=num_classes, channels=channels, hidden=hidden,
               dropout=dropout, image_size=in_shape[-1])


MODELS: dict[str, Callable[..., nn.Module]] = {
    "logreg": logreg, "mlp": mlp, "cnn": cnn, "resnet-mlp": resnet_mlp, "ode-net": ode_net,
}


def build(name: str, **options) -> nn.Module:
    """Build a zoo model by name; options are the builder's keyword arguments."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    builder = MODELS[name]
    valid = inspect.signature(builder).parameters
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"model {name!r} has no option {unknown[0]!r}; valid options: {', '.join(valid)}")
    return builder(**options)
