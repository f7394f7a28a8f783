"""Wall-clock timing for cost curves and benchmarks: the best of several repeats (the least disturbed), and
achieved rates (training examples per second, matrix-product FLOP/s) over a wall-clock budget."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor, nn

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


def train_throughput(model: nn.Module, x: Tensor, y: Tensor, *, seconds: float, batch_size: int,
                     generator: torch.Generator) -> tuple[int, float]:
    """(examples, seconds) of Adam training steps (cross-entropy) on random batches of (x, y) for about
    `seconds` of wall time, after one warm-up step. The model's weights change: pass a throw-away copy."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step() -> None:
        idx = torch.randint(0, len(x), (batch_size,), generator=generator)
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    examples, start = 0, time.perf_counter()
    while True:
        step()
        examples += batch_size
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return examples, elapsed


def matmul_flops(*, size: int, seconds: float) -> float:
    """FLOP/s of repeated float32 (size x size) @ (size x size) products: the machine's practical peak."""
    a, b = torch.ones(size, size), torch.ones(size, size)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * size ** 3 * count / (time.perf_counter() - start)
