"""Training-time augmentation as a batch hook of `models.fit`: random whole-pixel shifts.

Simard, Steinkraus, Platt. Best practices for convolutional neural networks applied to visual document
analysis. ICDAR 2003: train on transformed copies of the inputs, so the network sees the nuisance it
should tolerate.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab.data.transforms import shift


class ShiftAugment:
    """Batch hook: shift each image by whole pixels drawn uniformly from [-max_shift, max_shift] per axis."""

    def __init__(self, max_shift: int) -> None:
        self.max_shift = max_shift

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        d = torch.randint(-self.max_shift, self.max_shift + 1, (2, len(x)), generator=gen).to(x.dtype)
        return shift(x, d[0], d[1]), y
