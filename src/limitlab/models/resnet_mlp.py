"""Deep fully connected networks, plain or residual, with a chosen initialization (the `depth` study).

He, Zhang, Ren, Sun. Deep residual learning for image recognition. CVPR 2016 (x + F(x)).
Glorot, Bengio 2010 (Xavier init); He et al. 2015, Delving deep into rectifiers (He init).
Depth L counts the linear layers: input -> width, L - 2 hidden width x width layers, width -> classes.
Plain: Linear, act, Linear, act, ..., Linear. Residual (pre-activation, He et al. 2016, Identity
mappings in deep residual networks): Linear, then blocks h + scale * W act(h) (or `block_depth` layers
W_k act(... W_1 act(h))), then act, Linear. With He-initialized branches and scale 1 the activations'
variance grows every block, so deep stacks use scale 1/sqrt(L) or 1/L.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import orthogonal

from limitlab.config import check
from limitlab.errors import ConfigError
from limitlab.models.layers import activation

INITS = ("default", "small", "xavier", "he", "orthogonal")
SMALL_STD = 0.01  # "small random normal" initialization


class Residual(nn.Module):
    """h + scale * branch(h)."""

    def __init__(self, branch: nn.Module, scale: float = 1.0) -> None:
        super().__init__()
        self.branch, self.scale = branch, float(scale)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.scale * self.branch(h)

    def extra_repr(self) -> str:
        return f"scale={self.scale:.6g}"


def init_linear(layer: nn.Linear, init: str) -> None:
    """Set a layer's weights by the named scheme (biases to zero); "default" keeps PyTorch's."""
    if init not in INITS:
        raise ConfigError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
    if init == "default":
        return
    with torch.no_grad():
        if init == "small":
            layer.weight.normal_(0.0, SMALL_STD)
        elif init == "xavier":
            nn.init.xavier_normal_(layer.weight)
        elif init == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        else:
            nn.init.orthogonal_(layer.weight)
        layer.bias.zero_()


def resnet_mlp(
    *, in_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10, width: int = 64, depth: int = 8,
    act: str = "relu", residual: bool = True, branch_scale: float = 1.0, block_depth: int = 1,
    init: str = "default", constrain_orthogonal: bool = False,
) -> nn.Sequential:
    """An MLP of `depth` linear layers; hidden layers plain or residual blocks of `block_depth` layers.

    `constrain_orthogonal` keeps every hidden weight orthogonal during training (a parametrization):
    the constrained-optimization remedy, with ||W_l||_op = 1 for every hidden layer.
    """
    check(depth >= 2, f"depth={depth}; expected >= 2 (input and output layers)")
    check(width >= 1 and block_depth >= 1, f"width={width}, block_depth={block_depth}; expected >= 1")
    in_features = 1
    for d in in_shape:
        in_features *= d
    first, last = nn.Linear(in_features, width), nn.Linear(width, num_classes)
    hidden = [nn.Linear(width, width) for _ in range((depth - 2) // block_depth * block_depth)]  # whole blocks
    if residual:  # pre-activation blocks (He et al. 2016, Identity mappings): the skip path stays clean
        blocks = [hidden[i:i + block_depth] for i in range(0, len(hidden), block_depth)]
        layers: list[nn.Module] = [nn.Flatten(), first]
        layers += [Residual(nn.Sequential(*[m for lin in block for m in (activation(act), lin)]), branch_scale)
                   for block in blocks]
        layers += [activation(act), last]
    else:
        layers = [nn.Flatten(), first, activation(act)] + [m for lin in hidden for m in (lin, activation(act))] + [last]
    for layer in (first, *hidden, last):
        init_linear(layer, init)
    if constrain_orthogonal:
        for layer in hidden:
            orthogonal(layer, orthogonal_map="cayley")  # 4x faster than matrix_exp here
    return nn.Sequential(*layers)
