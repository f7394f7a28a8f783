"""Wall-clock timing for cost curves and benchmarks: the best of several repeats (the least disturbed)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best_time(fn: Callable[[], object], repeats: int = 5, *, warmup: bool = True) -> float:
    """The smallest of `repeats` wall times of `fn()`, in seconds; `warmup` runs it once untimed first."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_time_after(setup: Callable[[], T], fn: Callable[[T], object], repeats: int = 5) -> float:
    """The smallest of `repeats` wall times of `fn(setup())`, in seconds, `setup` untimed: e.g. a backward
    pass timed without the forward pass that builds its graph. No warm-up (`setup` is run each time)."""
    times = []
    for _ in range(repeats):
        arg = setup()
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return min(times)


def best_time_ratio(fn: Callable[[], object], base: Callable[[], object], *, repeats: int = 5
                    ) -> tuple[float, float]:
    """(best time of `fn` / best time of `base`, best time of `base` in seconds), the two timed in
    alternation, swapping which goes first: a machine whose speed drifts over seconds then slows both
    alike, where timing one after the other would put the drift into the ratio."""
    best = [float("inf"), float("inf")]
    fn(), base()  # warm up
    for k in range(repeats):
        for i in ((0, 1), (1, 0))[k % 2]:
            start = time.perf_counter()
            (fn, base)[i]()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0] / best[1], best[1]
