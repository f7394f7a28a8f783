"""What one gradient of an engine MLP costs: counted operations and wall times of the forward pass, the
backward pass, and central finite differences.

Griewank, Walther. Evaluating derivatives, 2nd ed., SIAM 2008: reverse mode costs a small constant
times the function, whatever the number of parameters; finite differences cost two evaluations per
parameter. The counts (`count_ops`) are exact and machine-independent; the wall times are the best of
`repeats` runs and vary with the machine's load.
"""
from __future__ import annotations

import numpy as np

from limitlab.autodiff.gradcheck import finite_differences, loss_of
from limitlab.autodiff.nn import MLP
from limitlab.autodiff.tensor import Tensor, count_ops
from limitlab.timing import best_time, best_time_after


def gradient_cost(net: MLP, x: np.ndarray, y: np.ndarray, *, fd_step: float, repeats: int,
                  fd_repeats: int) -> dict[str, float]:
    """Operations: "fwd", "bwd", "bp" (both), "fd" (finite differences), ratios "bwd_fwd" and "fd_bp";
    seconds: "t_fwd", "t_bwd", "t_bp", "t_fd" (finite differences timed `fd_repeats` times: they are slow)."""
    with count_ops() as ops:
        loss_of(net, x, y).backward()
    with count_ops() as fd_ops:
        t_fd = best_time(lambda: finite_differences(net, x, y, fd_step), fd_repeats, warmup=False)
    fd = fd_ops.forward // fd_repeats
    t_fwd = best_time(lambda: loss_of(net, x, y), repeats, warmup=False)

    def fresh_loss() -> Tensor:  # untimed: the forward pass that builds the graph the timed backward pass walks
        net.zero_grad()
        return loss_of(net, x, y)

    t_bwd = best_time_after(fresh_loss, lambda loss: loss.backward(), repeats)
    fwd, bwd = ops.forward, ops.backward
    return {"params": net.num_parameters(), "fwd": fwd, "bwd": bwd, "bp": fwd + bwd, "fd": fd, "bwd_fwd": bwd / fwd,
            "fd_bp": fd / (fwd + bwd), "t_fwd": t_fwd, "t_bwd": t_bwd, "t_bp": t_fwd + t_bwd, "t_fd": t_fd}
