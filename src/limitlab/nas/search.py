"""One entry point for the three searchers, by name, each seeded from its own named streams.

`run_search("controller" | "random" | "tpe", evaluate, num_children=..., seed=k, ctx=ctx)` -> (trace,
the controller's baseline before each update, or None). The controller's initial weights, each
searcher's sampling and TPE's seed all derive from `ctx` and (method, search seed), so one searcher or
seed never changes another's proposals.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypedDict, Unpack

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.nas.controller import Controller, reinforce_search
from limitlab.nas.random_search import random_search
from limitlab.nas.tpe import tpe_search
from limitlab.nas.trace import SearchTrace

SEARCHERS = ("controller", "random", "tpe")


def run_search(method: str, evaluate: Callable[[tuple[int, ...]], float], *, num_children: int, seed: int,
               ctx: Context, controller_lr: float = 0.05, baseline_decay: float = 0.8, tpe_startup: int = 4
               ) -> tuple[SearchTrace, list[float] | None]:
    """Search with `method` for `num_children` children (search seed `seed`)."""
    if method not in SEARCHERS:
        raise ConfigError(f"unknown searcher {method!r}; valid searchers: {', '.join(SEARCHERS)}")
    gen = ctx.generator("search", method, seed)
    if method == "controller":
        with ctx.seeded_torch("controller-init", seed):
            controller = Controller()
        return reinforce_search(evaluate, num_children=num_children, controller=controller, generator=gen,
                                lr=controller_lr, baseline_decay=baseline_decay)
    if method == "random":
        return random_search(evaluate, num_children=num_children, generator=gen), None
    return tpe_search(evaluate, num_children=num_children, seed=ctx.derive_seed("tpe", seed),
                      num_startup=tpe_startup), None


class SearchOptions(TypedDict, total=False):
    """`run_search`'s options, as `run_searches` passes them on."""

    controller_lr: float
    baseline_decay: float
    tpe_startup: int


def run_searches(methods: Sequence[str], evaluate: Callable[[tuple[int, ...]], float], *, num_seeds: int,
                 num_children: int, ctx: Context, **options: Unpack[SearchOptions]
                 ) -> tuple[dict[str, list[SearchTrace]], list[list[float]], dict[str, float]]:
    """Every searcher in `methods` over search seeds 0..num_seeds-1 at the same budget: (method -> one trace per
    seed, the controller's baselines per seed, method -> wall seconds spent, training the children it was first
    to propose). `options` go to `run_search` (controller_lr, baseline_decay, tpe_startup)."""
    traces: dict[str, list[SearchTrace]] = {m: [] for m in methods}
    baselines: list[list[float]] = []
    seconds = dict.fromkeys(methods, 0.0)
    for seed in ctx.progress.track(range(num_seeds), description="search seeds"):
        for method in methods:
            start = time.perf_counter()
            trace, base = run_search(method, evaluate, num_children=num_children, seed=seed, ctx=ctx, **options)
            seconds[method] += time.perf_counter() - start
            traces[method].append(trace)
            baselines += [base] if base is not None else []
    return traces, baselines, seconds
