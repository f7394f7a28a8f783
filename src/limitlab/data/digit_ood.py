"""Out-of-distribution image sets for a digits classifier: inputs that hold no digit, or a changed one.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples. ICLR 2017,
arXiv:1610.02136 (far OOD: noise, other symbols; near OOD: the same digits changed). All 8x8, in [0, 1]:
glyphs (letters and symbols), uniform noise, Gaussian blobs, inverted test digits (1 - x) and test
digits rotated by `rotation` degrees. Each set draws from its own named generator.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from limitlab.data.glyphs import glyphs
from limitlab.data.transforms import rotate
from limitlab.errors import ConfigError

OOD_SETS = ("glyphs", "noise", "blobs", "inverted", "rotated")


def blobs(num: int, gen: torch.Generator | None = None) -> Tensor:
    """One to three Gaussian blobs per 8x8 image (random centre, width, weight), peak scaled to 1."""
    centre = 1.5 + 5.0 * torch.rand(num, 3, 2, generator=gen)
    width = 0.7 + 1.1 * torch.rand(num, 3, 1, 1, generator=gen)
    weight = (torch.rand(num, 3, generator=gen) < torch.tensor([1.0, 0.6, 0.3])).float()
    grid = torch.arange(8.0)
    dy = (grid.view(1, 1, 8, 1) - centre[..., 0, None, None]) ** 2
    dx = (grid.view(1, 1, 1, 8) - centre[..., 1, None, None]) ** 2
    img = (weight[..., None, None] * torch.exp(-(dx + dy) / (2 * width ** 2))).sum(1, keepdim=True)
    return img / img.flatten(1).max(1).values.view(-1, 1, 1, 1)


def ood_sets(test_x: Tensor, *, num: int, rotation: float,
             generator: Callable[[str], torch.Generator]) -> dict[str, Tensor]:
    """`num` inputs of each set in `OOD_SETS`; `generator(name)` gives each set's own random stream."""
    g = glyphs().x
    if not 1 <= num <= min(len(g), len(test_x)):
        raise ConfigError(f"num={num}; expected 1..{min(len(g), len(test_x))} (glyphs has {len(g)} images)")
    pick = torch.randperm(len(test_x), generator=generator("ood-pick"))[:num]
    return {
        "glyphs": g[torch.randperm(len(g), generator=generator("glyphs"))[:num]],
        "noise": torch.rand(num, 1, 8, 8, generator=generator("noise")),
        "blobs": blobs(num, generator("blobs")),
        "inverted": 1.0 - test_x[pick],
        "rotated": rotate(test_x[pick], rotation).clamp(0, 1),
    }
