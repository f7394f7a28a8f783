"""Building blocks shared by the zoo's models: activations by name."""
from __future__ import annotations

from torch import nn

from limitlab.errors import ConfigError

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name; an unknown name is a ConfigError listing the valid ones."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
