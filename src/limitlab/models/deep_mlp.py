"""The `depth` study's deep MLPs by name: "activation/init/arch", e.g. "relu/he/residual".

Architectures (He et al. 2016, Deep residual learning; Glorot & Bengio 2010; source 004): "plain";
"residual", blocks h + s * act(W h + b) with s = 1/sqrt(L - 2) so the activations' variance stays
bounded with depth; "residual-unscaled", the same with s = 1 (it grows every block); "constrained",
hidden weights orthogonal at initialization and kept orthogonal in training (a parametrization).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from limitlab.config import check
from limitlab.context import Context
from limitlab.models.layers import ACTIVATIONS
from limitlab.models.resnet_mlp import INITS
from limitlab.models.zoo import build

ARCHS = ("plain", "residual", "residual-unscaled")
ALL_ARCHS = (*ARCHS, "constrained")
LABELS = {"plain": "plain", "residual": "residual 1/√(L-2)", "residual-unscaled": "residual, scale 1",
          "constrained": "kept orthogonal"}  # for legends


def deep_mlp(act: str, init: str, arch: str, depth: int, width: int, *, ctx: Context | None = None) -> nn.Sequential:
    """One configuration as a zoo `resnet-mlp` of `depth` linear layers of `width` units. With `ctx`, its initial
    weights come from the stream ("init", act, init, arch, depth): the same network wherever it is built."""
    if ctx is not None:
        with ctx.seeded_torch("init", act, init, arch, depth):
            return deep_mlp(act, init, arch, depth, width)
    scale = 1.0 if arch == "residual-unscaled" else 1.0 / math.sqrt(max(depth - 2, 1))
    return build("resnet-mlp", width=width, depth=depth, act=act, init=init, residual=arch.startswith("residual"),
                 branch_scale=scale, constrain_orthogonal=arch == "constrained")


def configurations(activations: Sequence[str], inits: Sequence[str], archs: Sequence[str], *,
         constrained: bool) -> list[tuple[str, str, str]]:
    """Every (activation, init, arch) of the product, plus (activation, "orthogonal", "constrained") per activation
    when `constrained`: the orthogonal arm has its own initialization."""
    out = [(a, i, arch) for a in activations for i in inits for arch in archs]
    return out + ([(a, "orthogonal", "constrained") for a in activations] if constrained else [])


def check_name(name: str, *, field: str = "train_configs") -> tuple[str, str, str]:
    """(activation, init, arch) of a name "activation/init/arch", or a ConfigError naming what is valid."""
    parts = tuple(name.split("/"))
    check(len(parts) == 3 and parts[0] in ACTIVATIONS and parts[1] in INITS and parts[2] in ALL_ARCHS,
          f"{field} entry {name!r}; expected activation/init/arch from {', '.join(ACTIVATIONS)} / "
          f"{', '.join(INITS)} / {', '.join(ALL_ARCHS)}; e.g. relu/he/residual")
    return parts  # type: ignore[return-value]
