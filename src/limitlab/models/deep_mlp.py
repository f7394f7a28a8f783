"""The `depth` study's deep MLPs by name: "activation/init/arch", e.g. "relu/he/residual".

Initializations: those of `resnet_mlp` (small normal, Xavier, He, orthogonal, PyTorch's default) and Glorot &
Bengio's "standard" one (AISTATS 2010, eq. 1): W ~ U[-1/sqrt(n), 1/sqrt(n)] for a layer of n inputs, zero biases.

Architectures (He et al. 2016, Deep residual learning; Glorot & Bengio 2010; source 004): "plain";
"residual", blocks h + s * act(W h + b) with s = 1/sqrt(L - 2) so the activations' variance stays
bounded with depth; "residual-unscaled", the same with s = 1 (it grows every block); "constrained",
hidden weights orthogonal at initialization and kept orthogonal in training (a parametrization).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from limitlab.config import check
from limitlab.context import Context
from limitlab.models.layers import ACTIVATIONS
from limitlab.models.resnet_mlp import INITS
from limitlab.models.zoo import build

ARCHS = ("plain", "residual", "residual-unscaled")
ALL_ARCHS = (*ARCHS, "constrained")
INITS_ALL = (*INITS, "standard")
LABELS = {"plain": "plain", "residual": "residual 1/√(L-2)", "residual-unscaled": "residual, scale 1",
          "constrained": "kept orthogonal"}  # for legends


def deep_mlp(act: str, init: str, arch: str, depth: int, width: int, *, ctx: Context | None = None) -> nn.Module:
    """One configuration as a zoo `resnet-mlp` of `depth` linear layers of `width` units. With `ctx`, its initial
    weights come from the stream ("init", act, init, arch, depth): the same network wherever it is built."""
    if ctx is not None:
        with ctx.seeded_torch("init", act, init, arch, depth):
            return deep_mlp(act, init, arch, depth, width)
    scale = 1.0 if arch == "residual-unscaled" else 1.0 / math.sqrt(max(depth - 2, 1))
    model = build("resnet-mlp", width=width, depth=depth, act=act, init="default" if init == "standard" else init,
                  residual=arch.startswith("residual"), branch_scale=scale, constrain_orthogonal=arch == "constrained")
    if init == "standard":
        standard_init(model)
    return model


def standard_init(model: nn.Module) -> None:
    """Glorot & Bengio's standard initialization of every linear layer: U[-1/sqrt(n_in), 1/sqrt(n_in)], zero bias."""
    with torch.no_grad():
        for layer in (m for m in model.modules() if isinstance(m, nn.Linear)):
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound)
            layer.bias.zero_()


def configurations(activations: Sequence[str], inits: Sequence[str], archs: Sequence[str], *,
                   constrained: bool) -> list[tuple[str, str, str]]:
    """Every (activation, init, arch) of the product, plus (activation, "orthogonal", "constrained") per activation
    when `constrained`: the orthogonal arm has its own initialization."""
    out = [(a, i, arch) for a in activations for i in inits for arch in archs]
    return out + ([(a, "orthogonal", "constrained") for a in activations] if constrained else [])


def check_name(name: str, *, field: str = "train_configs") -> tuple[str, str, str]:
    """(activation, init, arch) of a name "activation/init/arch", or a ConfigError naming what is valid."""
    parts = tuple(name.split("/"))
    check(len(parts) == 3 and parts[0] in ACTIVATIONS and parts[1] in INITS_ALL and parts[2] in ALL_ARCHS,
          f"{field} entry {name!r}; expected activation/init/arch from {', '.join(ACTIVATIONS)} / "
          f"{', '.join(INITS_ALL)} / {', '.join(ALL_ARCHS)}; e.g. relu/he/residual")
    return parts[0], parts[1], parts[2]
