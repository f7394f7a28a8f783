"""Wall-clock timing for cost curves and benchmarks: the best of several repeats (the least disturbed)."""
from __future__ import annotations

import time
from collections.abc import Callable


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
