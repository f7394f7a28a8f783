"""Test-time nuisances by name and level: shift, rotation, scale, noise and contrast, clamped to [0, 1].

Source 001 (nuisance variation: selectivity and invariance). The transformations are the shared library
`limitlab.data.transforms`; the clean level of each is the identity (shift 0, rotation 0, scale 1,
noise 0, contrast 1; contrast -1 inverts an image about its mean).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from limitlab.data.transforms import add_noise, contrast, rotate, scale, shift
from limitlab.errors import ConfigError

NUISANCES = ("shift", "rotation", "scale", "noise", "contrast")
CLEAN = {"shift": 0.0, "rotation": 0.0, "scale": 1.0, "noise": 0.0, "contrast": 1.0}
XLABELS = {"shift": "horizontal shift (pixels)", "rotation": "rotation (degrees)", "scale": "zoom factor",
           "noise": "noise standard deviation", "contrast": "contrast factor (-1 = inverted)"}


def nuisance(name: str, x: Tensor, level: float, gen: torch.Generator) -> Tensor:
    """The images `x` under one nuisance at one level, clamped to [0, 1] (`gen` draws the noise)."""
    ops: dict[str, Callable[[], Tensor]] = {
        "shift": lambda: shift(x, level), "rotation": lambda: rotate(x, level), "scale": lambda: scale(x, level),
        "noise": lambda: add_noise(x, level, generator=gen), "contrast": lambda: contrast(x, level)}
    if name not in ops:
        raise ConfigError(f"unknown nuisance {name!r}; valid: {', '.join(NUISANCES)}")
    return ops[name]().clamp(0, 1)


def gallery(x: Tensor, grids: Mapping[str, Sequence[float]]) -> tuple[Tensor, list[str]]:
    """One image `x` (1 x 1 x H x W) under every level of every nuisance in `grids` (levels x H x W), with a label
    per level: the examples figure of a nuisance sweep. The noise is drawn from a fixed generator."""
    gen, levels = torch.Generator().manual_seed(0), [(nu, v) for nu, grid in grids.items() for v in grid]
    return torch.stack([nuisance(nu, x, v, gen)[0, 0] for nu, v in levels]), [f"{nu} {v:g}" for nu, v in levels]

