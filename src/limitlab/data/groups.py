"""Two populations of one task, and the two classic remedies for an under-represented one.

Buolamwini, Gebru. Gender shades. FAT* 2018 (per-group accuracy). Kamiran, Calders. Data preprocessing
techniques for classification without discrimination. KAIS 2012 (reweighing, and resampling the
minority). Group B is the digits in a second style made by one fixed transformation.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from limitlab.data.transforms import rotate
from limitlab.errors import ConfigError

STYLES = ("rotate-90", "invert")


def second_style(x: Tensor, style: str) -> Tensor:
    """Group B's images: the same digits rotated by 90 degrees (clamped to [0, 1]) or contrast-inverted 1 - x."""
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; valid: {', '.join(STYLES)}")
    return rotate(x, 90.0).clamp(0, 1) if style == "rotate-90" else 1.0 - x


def group_weights(in_b: np.ndarray) -> Tensor:
    """Per-example weights N / (2 n_group): each group weighs N / 2 in total, the mean weight is 1."""
    n, n_b = len(in_b), int(in_b.sum())
    return torch.from_numpy(np.where(in_b, n / (2 * n_b), n / (2 * (n - n_b))).astype(np.float32))


def oversample_index(in_b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every index once, plus minority (group B) indices drawn with replacement until both groups are equal."""
    minority, majority = np.flatnonzero(in_b), np.flatnonzero(~in_b)
    extra = rng.choice(minority, size=max(len(majority) - len(minority), 0), replace=True)
    return np.concatenate([np.arange(len(in_b)), extra])
