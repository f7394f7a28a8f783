"""Sanity checks for saliency maps: cascading model-parameter randomization.

Adebayo, Gilmer, Muelly, Goodfellow, Hardt, Kim. Sanity checks for saliency maps. NeurIPS 2018,
arXiv:1810.03292. Re-initialize the model's layers one at a time from the output towards the input,
keeping earlier randomizations, and recompute the maps after each step. A map that explains the model
must change as its weights are destroyed; one that barely changes (high rank correlation with the
trained model's map) reflects the input or the architecture, not what the model learned.

The user's model is never touched: the cascade runs on a deep copy. Layers are re-initialized with
their own `reset_parameters()` (the architecture's initialization, as in the paper), each drawing from
a sub-stream seeded by one draw of `generator`, so the cascade is reproducible and the global stream is
kept; with generator=None the layers draw from torch's global stream (the rule of `limitlab._checks`).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor, nn

from limitlab import _checks
from limitlab.errors import ConfigTypeError, DataError, IncompatibleModelError

Explain = Callable[[nn.Module, Tensor], Tensor]


@dataclass(frozen=True)
class CascadingRandomization:
    """`maps[k]`: the maps after randomizing `layers[:k]` (so `maps[0]` is the trained model's)."""

    layers: list[str]
    maps: list[Tensor]

    def correlations(self, *, absolute: bool = True) -> Tensor:
        """Spearman rank correlation of each step's maps with the trained model's: (len(layers) + 1, N)."""
        return torch.stack([rank_correlation(self.maps[0], m, absolute=absolute) for m in self.maps])


def parametrized_layers(model: nn.Module) -> list[str]:
    """Names of the modules that hold parameters themselves, from the last registered to the first."""
    return [name for name, m in model.named_modules() if next(m.parameters(recurse=False), None) is not None][::-1]


def cascading_randomization(
    model: nn.Module, x: Tensor, explain: Explain, *, layers: Sequence[str] | None = None,
    generator: torch.Generator | None = None,
) -> CascadingRandomization:
    """Maps from `explain(model_copy, x)` as `layers` (default: top down) are re-initialized one by one.

    `explain` should fix the explained class (e.g. the trained model's prediction): otherwise the class
    changes with the weights and the comparison mixes two questions. The default order is reverse
    registration order; pass `layers` when that is not the order of the forward pass.
    """
    _checks.module(model)
    x = _checks.tensor(x, "x", min_dim=2)
    if not callable(explain):
        raise ConfigTypeError(f"explain is {_checks.describe(explain)}; expected a function (model, x) -> maps")
    if layers is not None and (isinstance(layers, str) or not all(isinstance(n, str) for n in layers)):
        raise ConfigTypeError(f"layers={_checks.shown(layers)}; expected a list of layer names, e.g. ['classifier.5']")
    generator = _checks.as_generator(generator)
    names = list(parametrized_layers(model) if layers is None else layers)
    copied = copy.deepcopy(model)
    modules = dict(copied.named_modules())
    for name in names:
        if name not in modules or not hasattr(modules[name], "reset_parameters"):
            raise IncompatibleModelError(f"layer {name!r} is not a module of the model with reset_parameters(); "
                                         f"layers that can be randomized: {', '.join(parametrized_layers(model))}")
    maps = [explain(copied, x).detach()]
    for name in names:
        stream = generator if generator is torch.default_generator else \
            torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        with _checks.global_stream(stream), torch.no_grad():
            modules[name].reset_parameters()
        maps.append(explain(copied, x).detach())
    return CascadingRandomization(names, maps)


def rank_correlation(a: Tensor, b: Tensor, *, absolute: bool = False) -> Tensor:
    """Spearman's rank correlation between maps a[n] and b[n] (ties get average ranks), shape (N,).

    NaN where either map is constant: a constant map has no ordering to compare.
    """
    a, b = _checks.tensor(a, "a", min_dim=2, floating=False), _checks.tensor(b, "b", min_dim=2, floating=False)
    if a.shape != b.shape:
        raise DataError(f"maps of shapes {tuple(a.shape)} and {tuple(b.shape)}; expected equal shapes (N, ...)")
    pair = [t.detach().flatten(1).abs() if absolute else t.detach().flatten(1) for t in (a, b)]
    ra, rb = (torch.from_numpy(rankdata(t.double().numpy(), axis=1)) for t in pair)
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    denom = ra.norm(dim=1) * rb.norm(dim=1)
    out = (ra * rb).sum(1) / denom
    return torch.where(denom > 0, out, torch.tensor(np.nan, dtype=out.dtype)).to(a.dtype)
