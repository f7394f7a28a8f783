"""Out-of-distribution sets built from a user's own inputs and bounds, for any input shape.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in neural
networks. ICLR 2017, arXiv:1610.02136 (uniform and Gaussian noise as OOD sets). Each set holds up to
`num` inputs: "uniform-noise" is uniform in the bounds box (each feature in its own [lo, hi], so an
outlier feature's range does not put every other feature far outside its own); "shuffled-features"
are the given inputs with each one's values permuted (the same values, no structure); "glyphs" are
the bundled letters and symbols drawn like the digits, when the inputs are 1 x 8 x 8 in [0, 1].
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.data.glyphs import glyphs
from limitlab.errors import DataError


def ood_sets(x: Tensor, *, lo: Tensor | float, hi: Tensor | float, num: int,
             generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """The OOD sets for inputs like `x` with bounds [lo, hi] (numbers, or tensors shaped like one input)."""
    if len(x) == 0 or num < 1:
        raise DataError(f"x has {len(x)} inputs and num={num}; expected at least one of each")
    lo_t = torch.as_tensor(lo, dtype=x.dtype).expand(x.shape[1:])
    hi_t = torch.as_tensor(hi, dtype=x.dtype).expand(x.shape[1:])
    n = min(len(x), num)
    noise = lo_t + (hi_t - lo_t) * torch.rand((n, *x.shape[1:]), generator=generator, dtype=x.dtype)
    pick = torch.randperm(len(x), generator=generator)[:n]
    flat = x[pick].flatten(1)
    order = torch.rand(flat.shape, generator=generator).argsort(dim=1)  # one permutation per row
    sets = {"uniform-noise": noise, "shuffled-features": flat.gather(1, order).view_as(x[pick])}
    if tuple(x.shape[1:]) == (1, 8, 8) and float(lo_t.min()) >= 0 and float(hi_t.max()) <= 1:
        g = glyphs().x
        sets["glyphs"] = g[torch.randperm(len(g), generator=generator)[:n]]
    return sets
