"""Per-model torch seeds for studies that train many models (arms, seeds within a run).

`fit` caches trained weights, so whether an earlier model was trained or loaded must not change
the next one: each model is built and trained under a global torch seed derived from the run seed
and the model's own name (initialization and dropout masks), and the global generator is restored
afterwards, so nothing outside the block sees a seeded global state.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from limitlab.context import Context


@contextmanager
def seeded_torch(ctx: Context, *names: object) -> Iterator[None]:
    """Within the block, torch's global generator is seeded from `ctx.derive_seed(*names)`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(ctx.derive_seed("torch", *names))
        yield
