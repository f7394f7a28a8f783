"""Backpropagation: exact gradients for the price of a few forward passes, whatever the parameter count.

Rumelhart, Hinton, Williams. Learning representations by back-propagating errors. Nature 1986.
Griewank, Walther. Evaluating derivatives, 2nd ed., SIAM 2008 (reverse mode costs a small constant
times the function). Source 000: symbolic differentiation of f(x) = 1/x, and Karpathy's "Yes you
should understand backprop".

Protocol, all with limitlab's own NumPy engine (`limitlab.autodiff`, float64):
1. f(x) = 1/x on a grid of x: the engine's gradient against the symbolic -1/x^2.
2. An MLP on a batch of digits: the loss gradient against `torch.autograd` (same weights, float64) and
   against central finite differences (J(p + h) - J(p - h)) / 2h, one pair of passes per parameter.
3. Cost: MLPs with 8 inputs, 4 classes and a growing hidden width (17 to 3,332 parameters by default,
   to 10^4 in `full`) on a batch of random inputs. Cost is the engine's count of arithmetic operations
   (`limitlab.autodiff.count_ops`: exact and machine-independent) of the forward pass, the backward
   pass, and all central finite differences; ratios backward / forward and finite differences /
   backprop, and the log-log slope of each cost against the parameter count. Wall times (best of
   `num_repeats`; finite differences timed once above width 16) are shown beside the counts, in the
   figure and a table: they vary from run to run on a shared machine, so the verdict does not use them.
4. The engine trains an MLP on digits with SGD; test accuracy.

Verdict: "exact" = relative error <= 1e-12 against the symbolic derivative, <= 1e-10 against torch
and <= 1e-6 against finite differences; "cheap" = backward / forward operations <= 5 at every size;
"linear" = finite differences cost >= 100x the operations of backprop at the largest size and the
log-log slope of their operation count against the parameter count is >= 0.7; "trains" = the
engine-trained MLP reaches >= 0.9 test accuracy. The claim holds if all four hold, fails if "exact"
or "cheap" does not, and is inconclusive otherwise.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from limitlab import figures
from limitlab.autodiff import MLP, SGD, Tensor, count_ops, softmax_cross_entropy
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register
from limitlab.timing import best_time


@dataclass(frozen=True)
class BackpropConfig:
    widths: tuple[int, ...] = (1, 4, 16, 64, 256)  # hidden widths of the cost curve (13 w + 4 parameters)
    cost_batch: int = 16
    num_repeats: int = 5
    fd_step: float = 1e-6
    check_hidden: int = 16  # the digits MLP whose gradient is checked (64 -> hidden -> 10)
    check_batch: int = 32
    train_hidden: int = 64
    epochs: int = 10
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 32

    def __post_init__(self) -> None:
        check(len(self.widths) >= 2 and min(self.widths) >= 1, f"widths={self.widths}; expected >= 2 widths >= 1")
        check(self.cost_batch >= 1 and self.check_batch >= 1 and self.batch_size >= 1, "batch sizes must be >= 1")
        check(self.num_repeats >= 1, f"num_repeats={self.num_repeats}; expected >= 1")
        check(0 < self.fd_step < 1e-2, f"fd_step={self.fd_step}; expected 0 < fd_step < 0.01")
        check(self.check_hidden >= 1 and self.train_hidden >= 1, "hidden widths must be >= 1")
        check(self.epochs >= 1 and self.lr > 0 and 0 <= self.momentum < 1,
              f"epochs={self.epochs}, lr={self.lr}, momentum={self.momentum}; expected >= 1, > 0, in [0, 1)")


def loss_of(net: MLP, x: np.ndarray, y: np.ndarray) -> Tensor:
    return softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y)


def backprop_gradient(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    net.zero_grad()
    loss_of(net, x, y).backward()
    return [p.grad.copy() for p in net.parameters()]


def finite_differences(net: MLP, x: np.ndarray, y: np.ndarray, h: float) -> list[np.ndarray]:
    """Central differences, one pair of forward passes per parameter (the cost backprop avoids)."""
    grads = []
    for p in net.parameters():
        g, flat = np.zeros(p.data.size), p.data.reshape(-1)  # a view: editing flat edits the parameter
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            up = loss_of(net, x, y).item()
            flat[i] = keep - h
            down = loss_of(net, x, y).item()
            flat[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g.reshape(p.shape))
    return grads


def torch_gradient(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The same network's gradient by torch.autograd in float64: an independent implementation."""
    import torch

    params = [torch.tensor(p.data, requires_grad=True) for p in net.parameters()]
    h = torch.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = getattr(torch, net.act)(h)
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    return [p.grad.numpy() for p in params]


def relative_error(ours: list[np.ndarray], ref: list[np.ndarray]) -> float:
    """max |ours - ref| / max |ref| over all parameters."""
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ours, ref))
    return diff / max(float(np.abs(b).max()) for b in ref)



def slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@register("backprop", chapter="representation", sources=("000",))
class Backprop(Study[BackpropConfig]):
    """Backpropagation with limitlab's own autodiff engine (Rumelhart et al. 1986). Sources: 000."""

    claim = ("Reverse-mode differentiation (backpropagation) gives exact gradients at a cost of a small constant "
             "times one forward pass, whatever the number of parameters; finite differences cost one pass per parameter.")
    Config = BackpropConfig
    presets = {
        "tiny": {"widths": (1, 8, 32), "num_repeats": 2, "check_hidden": 4, "check_batch": 8,
                 "train_hidden": 32, "epochs": 3},
        "full": {"widths": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768), "cost_batch": 64, "num_repeats": 9,
                 "check_hidden": 32, "epochs": 30},
    }

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        metrics: dict[str, Metric | tuple] = {}
        xs = np.concatenate([-np.logspace(1, -2, 16), np.logspace(-2, 1, 16)])
        v = Tensor(xs)
        (v ** -1).sum().backward()
        symbolic = -1.0 / xs ** 2
        metrics["reciprocal_rel_error"] = (float(np.max(np.abs(v.grad - symbolic) / np.abs(symbolic))), "relative",
                                           "max |engine - (-1/x^2)| / |1/x^2| for f(x) = 1/x over x in ±[0.01, 10]")
        check_rows = self.gradient_check(ctx, metrics)
        cost = self.cost_curve(ctx)
        p, bwd_fwd, fd_bp = cost["params"], cost["bwd_fwd"], cost["fd_bp"]
        metrics["bwd_fwd_ratio_max"] = (max(bwd_fwd), "x", "largest ops(backward) / ops(forward) over the sizes")
        metrics["fd_bp_ratio_largest"] = (fd_bp[-1], "x", f"ops(finite differences) / ops(backprop) at {p[-1]} parameters")
        metrics["fd_ops_slope"] = (slope(p, cost["fd"]), "log-log", "slope of log finite-difference ops vs log #params")
        metrics["bp_ops_slope"] = (slope(p, cost["bp"]), "log-log", "slope of log backprop ops vs log #params")
        metrics["largest_params"] = (p[-1], "count", "parameters of the largest network timed")
        history = self.train(ctx)
        metrics["engine_test_acc"] = (history["test_acc"][-1], "fraction",
                                      f"test accuracy of the engine-trained MLP (64-{cfg.train_hidden}-10) on digits")
        table = Table("Gradient of the digits MLP: engine vs torch.autograd vs finite differences",
                      ["parameter", "shape", "max |engine - torch| / max |torch|", "max |engine - FD| / max |FD|"],
                      check_rows, caption="Relative errors per parameter tensor, float64.")
        times = Table("Cost per gradient: counted operations and wall time", [
            "parameters", "ops forward", "ops backward", "ops finite differences", "time forward (ms)",
            "time backward (ms)", "time finite differences (ms)", "time backward / forward", "time FD / backprop"],
            [[n, f, b, d, f"{tf * 1e3:.3f}", f"{tb * 1e3:.3f}", f"{td * 1e3:.1f}", f"{tb / tf:.2f}",
              f"{td / (tf + tb):.0f}"]
             for n, f, b, d, tf, tb, td in zip(p, cost["fwd"], cost["bwd"], cost["fd"], cost["t_fwd"], cost["t_bwd"],
                                               cost["t_fd"])],
            caption="Operations are counted by the engine (exact); wall times vary with the machine's load.")
        return self.result(ctx, metrics=metrics, figures=self.figures(xs, v.grad, cost, history), tables=[table, times])

    def gradient_check(self, ctx: Context, metrics: dict) -> list[list]:
        cfg, data = self.config, digits()
        x = data.train.x[:cfg.check_batch].reshape(cfg.check_batch, -1).double().numpy()
        y = data.train.y[:cfg.check_batch].numpy()
        net = MLP((64, cfg.check_hidden, 10), act="tanh", rng=ctx.rng("check-init"))
        ours, ref, fd = backprop_gradient(net, x, y), torch_gradient(net, x, y), finite_differences(net, x, y, cfg.fd_step)
        metrics["torch_rel_error"] = (relative_error(ours, ref), "relative",
                                      f"max |engine - torch| / max |torch| over the {net.num_parameters()} parameters")
        metrics["fd_rel_error"] = (relative_error(ours, fd), "relative",
                                   f"max |engine - central differences (h={cfg.fd_step:g})| / max |FD|")
        names = ["W1", "b1", "W2", "b2"]
        return [[n, "x".join(map(str, a.shape)), f"{relative_error([a], [b]):.1e}", f"{relative_error([a], [c]):.1e}"]
                for n, a, b, c in zip(names, ours, ref, fd)]

    def cost_curve(self, ctx: Context) -> dict[str, list[float]]:
        cfg = self.config
        rng = ctx.rng("cost-data")
        x, y = rng.normal(size=(cfg.cost_batch, 8)), rng.integers(0, 4, cfg.cost_batch)
        keys = ("params", "fwd", "bwd", "bp", "fd", "bwd_fwd", "fd_bp", "t_fwd", "t_bwd", "t_bp", "t_fd")
        out: dict[str, list[float]] = {k: [] for k in keys}
        for width in ctx.progress.track(cfg.widths, description="cost curve"):
            net = MLP((8, width, 4), act="tanh", rng=ctx.rng("cost-init", width))
            with count_ops() as ops:
                loss_of(net, x, y).backward()
            with count_ops() as fd_ops:
                t_fd = best_time(lambda: finite_differences(net, x, y, cfg.fd_step), 1 if width > 16 else cfg.num_repeats, warmup=False)
            fd = fd_ops.forward // (1 if width > 16 else cfg.num_repeats)
            t_fwd = best_time(lambda: loss_of(net, x, y), cfg.num_repeats, warmup=False)
            t_bwd = min(self.time_backward(net, x, y) for _ in range(cfg.num_repeats))
            values = (net.num_parameters(), ops.forward, ops.backward, ops.forward + ops.backward, fd,
                      ops.backward / ops.forward, fd / (ops.forward + ops.backward), t_fwd, t_bwd, t_fwd + t_bwd, t_fd)
            for key, value in zip(keys, values):
                out[key].append(value)
        return out

    @staticmethod
    def time_backward(net: MLP, x: np.ndarray, y: np.ndarray) -> float:
        net.zero_grad()
        loss = loss_of(net, x, y)
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    def train(self, ctx: Context) -> dict[str, list[float]]:
        cfg, data = self.config, digits()
        flat = {k: (getattr(data, k).x.reshape(len(getattr(data, k)), -1).double().numpy(), getattr(data, k).y.numpy())
                for k in ("train", "test")}
        (x, y), (xt, yt) = flat["train"], flat["test"]
        net = MLP((64, cfg.train_hidden, 10), act="relu", rng=ctx.rng("train-init"))
        opt, rng = SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum), ctx.rng("train-order")
        history: dict[str, list[float]] = {"train_loss": [], "test_acc": []}
        for _ in ctx.progress.track(range(cfg.epochs), description="engine training"):
            order = rng.permutation(len(y))
            for i in range(0, len(y), cfg.batch_size):
                idx = order[i:i + cfg.batch_size]
                opt.zero_grad()
                loss_of(net, x[idx], y[idx]).backward()
                opt.step()
            history["train_loss"].append(loss_of(net, x, y).item())
            history["test_acc"].append(float((net(Tensor(xt, requires_grad=False)).data.argmax(1) == yt).mean()))
        return history

    def figures(self, xs, grad, cost, history) -> list[Figure]:
        p = cost["params"]
        timing = Figure("cost", "Cost of a gradient vs number of parameters", [
            figures.lines([figures.series("forward pass", p, cost["fwd"]),
                           figures.series("backward pass", p, cost["bwd"]),
                           figures.series("central finite differences", p, cost["fd"])],
                          title="arithmetic operations (counted)", xlabel="parameters", ylabel="operations",
                          xscale="log", yscale="log"),
            figures.lines([figures.series("forward pass", p, cost["t_fwd"]),
                           figures.series("backward pass", p, cost["t_bwd"]),
                           figures.series("central finite differences", p, cost["t_fd"])],
                          title="wall time (best of repeats)", xlabel="parameters", ylabel="seconds",
                          xscale="log", yscale="log"),
            figures.lines([figures.series("backward / forward (ops)", p, cost["bwd_fwd"]),
                           figures.series("finite differences / backprop (ops)", p, cost["fd_bp"]),
                           figures.series("backward / forward (time)", p,
                                          [b / f for b, f in zip(cost["t_bwd"], cost["t_fwd"])]),
                           figures.series("finite differences / backprop (time)", p,
                                          [d / b for d, b in zip(cost["t_fd"], cost["t_bp"])])],
                          title="cost ratios", xlabel="parameters", ylabel="ratio", xscale="log", yscale="log"),
        ], caption="Backprop stays within a small constant of one forward pass; finite differences need two "
                   "forward passes per parameter. Wall times are from a possibly shared machine; at small sizes "
                   "they measure Python overhead more than arithmetic.")
        pos, neg = xs > 0, xs < 0
        rel = np.maximum(np.abs(grad + 1 / xs ** 2) * xs ** 2, 1e-17)
        recip = Figure("reciprocal", "f(x) = 1/x: engine gradient vs the symbolic derivative", [
            figures.lines([figures.series("symbolic 1/x²", xs[pos], 1 / xs[pos] ** 2, style="line"),
                           figures.series("engine, x > 0", xs[pos], -grad[pos], style="points"),
                           figures.series("engine, x < 0", -xs[neg], -grad[neg], style="points")],
                          title="|df/dx| against |x|", xlabel="|x|", ylabel="-df/dx", xscale="log", yscale="log"),
            figures.lines([figures.series("x > 0", xs[pos], rel[pos], style="points"),
                           figures.series("x < 0", -xs[neg], rel[neg], style="points")],
                          title="relative error (exact zeros shown at 1e-17)", xlabel="|x|",
                          ylabel="|engine - symbolic| / |symbolic|", xscale="log", yscale="log"),
        ], caption="(v ** -1).sum().backward() gives -1/x² to the last bit or two of float64.")
        epochs = list(range(1, len(history["test_acc"]) + 1))
        train = Figure("training", "The engine trains an MLP on digits", [
            figures.lines([figures.series("train loss", epochs, history["train_loss"])], title="training loss",
                          xlabel="epoch", ylabel="cross-entropy"),
            figures.lines([figures.series("test accuracy", epochs, history["test_acc"])], title="test accuracy",
                          xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), hlines=[{"y": 0.9, "label": "0.9 (verdict)"}]),
        ], caption="SGD with momentum on limitlab.autodiff, NumPy only.")
        return [timing, recip, train]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        parts = {
            "exact": m["reciprocal_rel_error"] <= 1e-12 and m["torch_rel_error"] <= 1e-10 and m["fd_rel_error"] <= 1e-6,
            "cheap": m["bwd_fwd_ratio_max"] <= 5,
            "linear": m["fd_bp_ratio_largest"] >= 100 and m["fd_ops_slope"] >= 0.7,
            "trains": m["engine_test_acc"] >= 0.9,
        }
        text = (f"Gradient errors: {m['reciprocal_rel_error']:.1e} vs -1/x², {m['torch_rel_error']:.1e} vs torch, "
                f"{m['fd_rel_error']:.1e} vs finite differences; "
                f"backward/forward operations <= {m['bwd_fwd_ratio_max']:.2f}x "
                f"at every size; finite differences {m['fd_bp_ratio_largest']:.0f}x the operations of backprop at "
                f"{m['largest_params']:.0f} parameters (log-log slope {m['fd_ops_slope']:.2f} vs "
                f"{m['bp_ops_slope']:.2f} for backprop); engine-trained MLP {m['engine_test_acc']:.1%} test accuracy")
        failed = [k for k, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if {"exact", "cheap"} & set(failed) else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
