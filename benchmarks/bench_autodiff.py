"""Speed of limitlab's NumPy autodiff engine, as ratios measured in one run (no absolute claims).

    .venv/bin/python benchmarks/bench_autodiff.py

For MLPs of growing width on a batch of digits-sized inputs: engine backward / engine forward time,
engine (forward + backward) / torch float64 (forward + backward) time, and finite differences /
backprop time on the smallest network. Each time is the best of a few repeats.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from limitlab.autodiff import MLP, Tensor, softmax_cross_entropy
from limitlab.studies.backprop import finite_differences
from limitlab.timing import best_time as best


def engine_times(net: MLP, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    forward = best(lambda: softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y))

    def backward_only() -> float:
        loss = softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y)
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    return forward, min(backward_only() for _ in range(7))


def torch_time(net: MLP, x: np.ndarray, y: np.ndarray) -> float:
    params = [torch.tensor(p.data, requires_grad=True) for p in net.parameters()]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def step() -> None:
        h = xt
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = torch.tanh(h)
        torch.nn.functional.cross_entropy(h, yt).backward()

    return best(step)


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 64)), rng.integers(0, 10, 64)
    print(f"{'params':>8} {'bwd/fwd':>8} {'engine/torch':>13}")
    for width in (8, 64, 256, 1024):
        net = MLP((64, width, 10), act="tanh", rng=rng)
        fwd, bwd = engine_times(net, x, y)
        print(f"{net.num_parameters():>8} {bwd / fwd:>8.2f} {(fwd + bwd) / torch_time(net, x, y):>13.2f}")
    small = MLP((64, 4, 10), act="tanh", rng=rng)
    fwd, bwd = engine_times(small, x, y)
    fd = best(lambda: finite_differences(small, x, y, 1e-6), repeats=1)
    print(f"finite differences / backprop at {small.num_parameters()} parameters: {fd / (fwd + bwd):.0f}")


if __name__ == "__main__":
    main()
