"""Which inputs each model still classifies under a grid of test-time nuisances (`limitlab.data.nuisances`).

Source 001 (nuisance variation: selectivity and invariance). The invariance study's measurement, kept with the
models because it runs them: the data package only transforms.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

import torch
from torch import Tensor, nn

from limitlab.data.arrays import ArrayDataset
from limitlab.data.nuisances import nuisance
from limitlab.models.train import correct

K = TypeVar("K", bound=Hashable)


def correct_under(models: Mapping[K, nn.Module], data: ArrayDataset, grids: Mapping[str, Sequence[float]], *,
                  generator: Callable[[str, float], torch.Generator]) -> dict[str, dict[K, Tensor]]:
    """Per nuisance and model, levels x examples (float64): 1 where the model classifies the transformed example
    correctly. Each transformed set is made once (`generator(name, level)` draws its noise) and shared by the models."""
    out: dict[str, dict[K, Tensor]] = {nu: {k: torch.zeros(len(grid), len(data), dtype=torch.float64) for k in models}
                                       for nu, grid in grids.items()}
    for nu, grid in grids.items():
        for j, level in enumerate(grid):
            xt = nuisance(nu, data.x, level, generator(nu, level))
            for k, model in models.items():
                out[nu][k][j] = correct(model, xt, data.y)
    return out
