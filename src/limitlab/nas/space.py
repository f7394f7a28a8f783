"""The search space: small MLPs and CNNs for 8x8 digits, one categorical decision at a time.

A child is a sequence of decision indices, one per entry of `DECISIONS` (the order in which the
controller emits them, as in Zoph & Le 2017). Decisions that do not apply (the kernel of an MLP, a
skip connection in a one-layer net) are ignored: `canonical` maps every sequence to the architecture
it actually builds, so equal architectures are recognized (and trained once).
CNN child: conv(k) -> act -> 2x2 max-pool, then (layers - 1) conv(k) -> act on 4x4 maps (with
`skip`, each adds its input: a residual block), flatten, linear to the classes.
MLP child: linear(64 -> width) -> act, then (layers - 1) linear(width -> width) -> act (residual with
`skip`), linear to the classes.
"""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from limitlab.errors import ConfigError

DECISIONS: tuple[tuple[str, tuple], ...] = (
    ("kind", ("mlp", "cnn")),
    ("layers", (1, 2, 3)),
    ("width", (8, 16, 32)),
    ("kernel", (3, 5)),
    ("act", ("relu", "tanh", "gelu")),
    ("skip", (False, True)),
)
ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def _check(choices: Sequence[int]) -> None:
    if len(choices) != len(DECISIONS) or any(not 0 <= int(c) < len(opts) for c, (_, opts) in zip(choices, DECISIONS)):
        raise ConfigError(f"choices={tuple(choices)}; expected {len(DECISIONS)} indices, one per decision "
                          f"({', '.join(f'{n} < {len(o)}' for n, o in DECISIONS)})")


def decode(choices: Sequence[int]) -> dict:
    """Decision indices -> {name: value}."""
    _check(choices)
    return {name: opts[int(c)] for c, (name, opts) in zip(choices, DECISIONS)}


def canonical(choices: Sequence[int]) -> tuple[int, ...]:
    """The same architecture with the decisions that do not apply set to 0."""
    arch = decode(choices)
    out = [int(c) for c in choices]
    names = [n for n, _ in DECISIONS]
    if arch["kind"] == "mlp":
        out[names.index("kernel")] = 0
    if arch["layers"] == 1:
        out[names.index("skip")] = 0
    return tuple(out)


def describe(choices: Sequence[int]) -> str:
    """A short name, e.g. `cnn 2x16 k3 relu skip`."""
    a = decode(canonical(choices))
    kernel = f" k{a['kernel']}" if a["kind"] == "cnn" else ""
    skip = " skip" if a["skip"] else ""
    return f"{a['kind']} {a['layers']}x{a['width']}{kernel} {a['act']}{skip}"


def space_size() -> int:
    """Number of distinct architectures."""
    widths, acts = len(DECISIONS[2][1]), len(DECISIONS[4][1])
    per_kind = widths * acts * (1 + 2 * (len(DECISIONS[1][1]) - 1))  # one layer: no skip choice
    return per_kind + per_kind * len(DECISIONS[3][1])  # MLP + CNN (which also picks a kernel)


class _Residual(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def build_child(choices: Sequence[int], *, num_classes: int = 10) -> nn.Module:
    """The child network for 1x8x8 inputs."""
    a = decode(choices)
    w, act = a["width"], ACTS[a["act"]]
    if a["kind"] == "cnn":
        k = a["kernel"]
        layers: list[nn.Module] = [nn.Conv2d(1, w, k, padding=k // 2), act(), nn.MaxPool2d(2)]
        block = lambda: nn.Sequential(nn.Conv2d(w, w, k, padding=k // 2), act())  # noqa: E731
        out_features = w * 16
    else:
        layers = [nn.Flatten(), nn.Linear(64, w), act()]
        block = lambda: nn.Sequential(nn.Linear(w, w), act())  # noqa: E731
        out_features = w
    for _ in range(a["layers"] - 1):
        layers.append(_Residual(block()) if a["skip"] else block())
    layers += [nn.Flatten(), nn.Linear(out_features, num_classes)]
    return nn.Sequential(*layers)
