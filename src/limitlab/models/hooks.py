"""Batch hooks for `fit`: functions of (model, x, y, generator) -> (x, y) applied to every training batch.

Adversarial training (Madry, Makelov, Schmidt, Tsipras, Vladu. ICLR 2018, arXiv:1706.06083): each batch
is replaced by its PGD examples (L-inf, random start), the inner maximization of the robust objective.
Data augmentation: each batch is replaced by freshly transformed copies, drawn from a
`limitlab.data.transforms.TransformDistribution` (Athalye et al. ICML 2018 train on it before EOT).
`fit` keys its cache by a hook's qualified name only: pass the hook's settings in `fit(..., key=...)`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab.attacks.pgd import pgd
from limitlab.data.transforms import TransformDistribution


class PGDTraining:
    """Replace each batch by its PGD (L-inf, random start) version: `steps` steps of step_ratio * eps / steps."""

    def __init__(self, eps: float, steps: int, step_ratio: float) -> None:
        self.eps, self.steps, self.step_size = eps, steps, step_ratio * eps / steps

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        return pgd(model, x, y, eps=self.eps, step_size=self.step_size, steps=self.steps, random_start=True,
                   generator=gen), y


class Augment:
    """Replace each batch by freshly transformed copies of it (the labels are kept)."""

    def __init__(self, dist: TransformDistribution) -> None:
        self.dist = dist

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        return self.dist.sample(len(x), shape=tuple(x.shape[1:]), generator=gen)(x), y
