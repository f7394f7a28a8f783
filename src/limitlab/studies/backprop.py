"""Backpropagation: exact gradients for the price of a few forward passes, whatever the parameter count.

Rumelhart, Hinton, Williams. Learning representations by back-propagating errors. Nature 1986. Griewank, Walther.
Evaluating derivatives, 2nd ed., SIAM 2008 (reverse mode costs a small constant times the function). Source 000:
symbolic differentiation of f(x) = 1/x, and Karpathy's "Yes you should understand backprop".

Protocol, all with limitlab's own NumPy engine (`limitlab.autodiff`, float64):
1. f(x) = 1/x on a grid of x: the engine's gradient against the symbolic -1/x^2.
2. An MLP on a batch of digits: the loss gradient against `torch.autograd` (same weights, float64) and against
   central finite differences (J(p + h) - J(p - h)) / 2h, one pair of passes per parameter.
3. Cost: MLPs with 8 inputs, 4 classes and a growing hidden width (17 to 3,332 parameters by default, to 10^4 in
   `full`) on a batch of random inputs. Cost is the engine's count of arithmetic operations
   (`limitlab.autodiff.count_ops`: exact and machine-independent) of the forward pass, the backward pass, and all
   central finite differences; ratios backward / forward and finite differences / backprop, and the log-log slope of
   each cost against the parameter count. Wall times (best of `num_repeats`; finite differences timed once above
   width 16) are shown beside the counts, in the figure and a table: they vary from run to run on a shared machine,
   so the verdict does not use them.
4. The engine trains an MLP on digits with SGD; test accuracy.

Verdict: "exact" = relative error <= 1e-12 against the symbolic derivative, <= 1e-10 against torch and <= 1e-6
against finite differences; "cheap" = backward / forward operations <= 5 at every size; "linear" = finite differences
cost >= 100x the operations of backprop at the largest size and the log-log slope of their operation count against
the parameter count is >= 0.7; "trains" = the engine-trained MLP reaches >= 0.9 test accuracy. The claim holds if all
four hold, fails if "exact" or "cheap" does not, and is inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from limitlab import figures
from limitlab.autodiff import MLP, gradcheck
from limitlab.autodiff.cost import gradient_cost
from limitlab.autodiff.fit import fit_sgd
from limitlab.config import Checked, Each, Interval
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.study import Study, register


@dataclass(frozen=True)
class BackpropConfig(Checked):
    constraints: ClassVar = {
        "widths": Each(Interval(1), min_len=2), "cost_batch": Interval(1), "num_repeats": Interval(1),
        "fd_step": Interval(0, 1e-2, closed="neither"), "check_hidden": Interval(1), "check_batch": Interval(1, 1077),
        "train_hidden": Interval(1), "epochs": Interval(1), "lr": Interval(0, closed="neither"),
        "momentum": Interval(0, 1, closed="left"), "batch_size": Interval(1)}
    widths: tuple[int, ...] = (1, 4, 16, 64, 256)  # hidden widths of the cost curve (13 w + 4 parameters)
    cost_batch: int = 16
    num_repeats: int = 5
    fd_step: float = 1e-6
    check_hidden: int = 16  # the digits MLP whose gradient is checked (64 -> hidden -> 10)
    check_batch: int = 32  # training digits in its batch
    train_hidden: int = 64
    epochs: int = 10
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 32


def slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def flat(split: ArrayDataset) -> tuple[np.ndarray, np.ndarray]:
    """(inputs as float64 rows, labels) as NumPy arrays, for the engine."""
    return split.x.reshape(len(split), -1).double().numpy(), split.y.numpy()


@register("backprop", chapter="representation", sources=("000",))
class Backprop(Study[BackpropConfig]):
    """Backpropagation with limitlab's own autodiff engine (Rumelhart et al. 1986). Sources: 000."""

    claim = ("Reverse-mode differentiation (backpropagation) gives exact gradients at a cost of a small constant "
             "times one forward pass, whatever the number of parameters; finite differences cost one pass per "
             "parameter.")
    Config = BackpropConfig
    presets = {
        "tiny": {"widths": (1, 8, 32), "num_repeats": 2, "check_hidden": 4, "check_batch": 8,
                 "train_hidden": 32, "epochs": 3},
        "full": {"widths": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768), "cost_batch": 64, "num_repeats": 9,
                 "check_hidden": 32, "epochs": 30},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        xs = np.concatenate([-np.logspace(1, -2, 16), np.logspace(-2, 1, 16)])
        grad, symbolic = gradcheck.reciprocal_gradient(xs), -1.0 / xs ** 2
        m.add("reciprocal_rel_error", float(np.max(np.abs(grad - symbolic) / np.abs(symbolic))), "relative",
              "max |engine - (-1/x^2)| / |1/x^2| for f(x) = 1/x over x in ±[0.01, 10]")
        table = self.gradient_check(ctx, m)
        cost = self.cost_curve(ctx)
        p = cost["params"]
        m.add("bwd_fwd_ratio_max", max(cost["bwd_fwd"]), "x", "largest ops(backward) / ops(forward) over the sizes")
        m.add("fd_bp_ratio_largest", cost["fd_bp"][-1], "x",
              f"ops(finite differences) / ops(backprop) at {p[-1]} parameters")
        m.add("fd_ops_slope", slope(p, cost["fd"]), "log-log", "slope of log finite-difference ops vs log #params")
        m.add("bp_ops_slope", slope(p, cost["bp"]), "log-log", "slope of log backprop ops vs log #params")
        m.add("largest_params", p[-1], "count", "parameters of the largest network timed")
        (x, y), (xt, yt) = flat(data.train), flat(data.test)
        history = fit_sgd(MLP((64, cfg.train_hidden, 10), act="relu", rng=ctx.rng("train-init")), x, y, xt, yt,
                          epochs=cfg.epochs, lr=cfg.lr, momentum=cfg.momentum, batch_size=cfg.batch_size,
                          rng=ctx.rng("train-order"),
                          track=lambda it: ctx.progress.track(it, description="engine training"))
        m.add("engine_test_acc", history["test_acc"][-1], "fraction",
              f"test accuracy of the engine-trained MLP (64-{cfg.train_hidden}-10) on digits")
        times = Table("Cost per gradient: counted operations and wall time", [
            "parameters", "ops forward", "ops backward", "ops finite differences", "time forward (ms)",
            "time backward (ms)", "time finite differences (ms)", "time backward / forward", "time FD / backprop"],
            [[n, f, b, d, f"{tf * 1e3:.3f}", f"{tb * 1e3:.3f}", f"{td * 1e3:.1f}", f"{tb / tf:.2f}",
              f"{td / (tf + tb):.0f}"]
             for n, f, b, d, tf, tb, td in zip(p, *(cost[k] for k in ("fwd", "bwd", "fd", "t_fwd", "t_bwd", "t_fd")))],
            caption="Operations are counted by the engine (exact); wall times vary with the machine's load.")
        return self.result(ctx, metrics=m, figures=self.figures(xs, grad, cost, history), tables=[table, times])

    def gradient_check(self, ctx: Context, m: Metrics) -> Table:
        cfg, (x, y) = self.config, flat(digits().train.subset(slice(0, self.config.check_batch)))
        net = MLP((64, cfg.check_hidden, 10), act="tanh", rng=ctx.rng("check-init"))
        ours, ref = gradcheck.backprop_gradient(net, x, y), gradcheck.torch_gradient(net, x, y)
        fd = gradcheck.finite_differences(net, x, y, cfg.fd_step)
        m.add("torch_rel_error", gradcheck.relative_error(ours, ref), "relative",
              f"max |engine - torch| / max |torch| over the {net.num_parameters()} parameters")
        m.add("fd_rel_error", gradcheck.relative_error(ours, fd), "relative",
              f"max |engine - central differences (h={cfg.fd_step:g})| / max |FD|")
        return Table("Gradient of the digits MLP: engine vs torch.autograd vs finite differences",
                     ["parameter", "shape", "max |engine - torch| / max |torch|", "max |engine - FD| / max |FD|"],
                     [[n, "x".join(map(str, a.shape)), *(f"{gradcheck.relative_error([a], [r]):.1e}" for r in (b, c))]
                      for n, a, b, c in zip(["W1", "b1", "W2", "b2"], ours, ref, fd)],
                     caption="Relative errors per parameter tensor, float64.")

    def cost_curve(self, ctx: Context) -> dict[str, list[float]]:
        """`gradient_cost` per hidden width, as lists over the widths."""
        cfg, rng = self.config, ctx.rng("cost-data")
        x, y = rng.normal(size=(cfg.cost_batch, 8)), rng.integers(0, 4, cfg.cost_batch)
        rows = [gradient_cost(MLP((8, w, 4), act="tanh", rng=ctx.rng("cost-init", w)), x, y, fd_step=cfg.fd_step,
                              repeats=cfg.num_repeats, fd_repeats=1 if w > 16 else cfg.num_repeats)
                for w in ctx.progress.track(cfg.widths, description="cost curve")]
        return {k: [r[k] for r in rows] for k in rows[0]}

    def figures(self, xs, grad, cost, history) -> list[Figure]:
        p = cost["params"]
        trio = lambda keys: [figures.series(label, p, cost[k]) for label, k in zip(  # noqa: E731
            ("forward pass", "backward pass", "central finite differences"), keys)]
        timing = Figure("cost", "Cost of a gradient vs number of parameters", [
            figures.lines(trio(("fwd", "bwd", "fd")), title="arithmetic operations (counted)", xlabel="parameters",
                          ylabel="operations", xscale="log", yscale="log"),
            figures.lines(trio(("t_fwd", "t_bwd", "t_fd")), title="wall time (best of repeats)", xlabel="parameters",
                          ylabel="seconds", xscale="log", yscale="log"),
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
                          xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02),
                          hlines=[{"y": 0.9, "label": "0.9 (verdict)"}]),
        ], caption="SGD with momentum on limitlab.autodiff, NumPy only.")
        return [timing, recip, train]

    def judge(self, m: MetricValues) -> Verdict:
        parts = {"exact": every([at_most(m["reciprocal_rel_error"], 1e-12), at_most(m["torch_rel_error"], 1e-10),
                                 at_most(m["fd_rel_error"], 1e-6)]),
                 "cheap": at_most(m["bwd_fwd_ratio_max"], 5),
                 "linear": every([at_least(m["fd_bp_ratio_largest"], 100), at_least(m["fd_ops_slope"], 0.7)]),
                 "trains": at_least(m["engine_test_acc"], 0.9)}
        f = {k: fmt(m[k], spec) for k, spec in (
            ("reciprocal_rel_error", ".1e"), ("torch_rel_error", ".1e"), ("fd_rel_error", ".1e"),
            ("bwd_fwd_ratio_max", ".2f"), ("fd_bp_ratio_largest", ".0f"), ("largest_params", ".0f"),
            ("fd_ops_slope", ".2f"), ("bp_ops_slope", ".2f"), ("engine_test_acc", ".1%"))}
        text = (f"Gradient errors: {f['reciprocal_rel_error']} vs -1/x², {f['torch_rel_error']} vs torch, "
                f"{f['fd_rel_error']} vs finite differences; backward/forward operations <= {f['bwd_fwd_ratio_max']}x "
                f"at every size; finite differences {f['fd_bp_ratio_largest']}x the operations of backprop at "
                f"{f['largest_params']} parameters (log-log slope {f['fd_ops_slope']} vs {f['bp_ops_slope']} for "
                f"backprop); engine-trained MLP {f['engine_test_acc']} test accuracy")
        return Verdict.combine(parts, text, decisive=("exact", "cheap"))
