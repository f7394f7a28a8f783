"""Approximation: one hidden layer approximates continuous functions, but no continuous net represents a jump.

Hornik, Stinchcombe, White. Multilayer feedforward networks are universal approximators. Neural Networks 1989 (source
002). Source 004: "Neural networks cannot learn to represent discontinuous functions" (the "Animal" / "No animal"
example): a network is continuous, so near a jump between 0 and 1 it must take every value in between, and its
sup-norm error is at least 1/2 whatever its size.

Protocol: one-hidden-layer tanh networks f(x) = sum_j a_j tanh(s (x - c_j)) + a_0 of width n in `widths` on [-1, 1],
with centers c_j evenly spaced and steepness s = `steepness` * n (a constructive choice, as in the proofs: finer and
steeper units as n grows), and the output layer fitted by least squares on `num_train` grid points; targets: smooth
sin(pi x) + 0.3 cos(2 pi x) and the unit step 1[x >= 0]. On a dense grid (plus points within 1e-12 .. 1e-3 of the
jump): sup and L2 errors, the max slope |f'|, and for the step the width of the "undecided" band {x : 0.1 < f(x) <
0.9}; by the mean value theorem band * max slope >= 0.8 when f crosses the band. The classification form: an MLP
trained on digits, and for `num_pairs` pairs of correctly classified test digits of different classes the pixel-wise
path (1 - t) x_a + t x_b over `num_path` values of t: the classifier's top probability along the path.

Verdict: "smooth" = at the largest width the smooth target's sup error is <= 0.05 and >= 10x smaller than at the
smallest width; "jump" = the step's sup error is >= 0.499 at every width while its L2 error at the largest width is
<= half that at the smallest; "band" = band * max slope >= 0.8 at every width where the fit crosses the band; "path"
= on every pair's path the top class probability drops to <= 0.6 somewhere. The claim holds if all four hold, fails
if "smooth" or "jump" does not, and is inconclusive otherwise.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from limitlab import figures
from limitlab.config import Checked, Each, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.tanh_features import fit_output_layer, forward
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict, at_least, at_most, every, fmt
from limitlab.study import Study, register

TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "smooth": lambda x: np.sin(np.pi * x) + 0.3 * np.cos(2 * np.pi * x),
    "step": lambda x: (x >= 0).astype(np.float64),
}


@dataclass(frozen=True)
class ApproximationConfig(Checked):
    constraints: ClassVar = {"widths": Each(Interval(1), min_len=2), "steepness": Interval(0, closed="neither"),
                             "num_train": Interval(2), "num_eval": Interval(101), "num_pairs": Interval(1, 10),
                             "num_path": Interval(3), "epochs": Interval(1)}
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    steepness: float = 1.0
    num_train: int = 2001
    num_eval: int = 10001
    num_pairs: int = 6
    num_path: int = 201
    epochs: int = 30

    def validate(self) -> None:
        check(self.num_train >= max(self.widths) + 1,
              f"num_train={self.num_train}; expected > the largest width ({max(self.widths)}) for a least-squares fit")


def fit_width(name: str, width: int, cfg: ApproximationConfig, x_eval: np.ndarray, num_grid: int) -> dict:
    """Fit the output layer by least squares; measure errors, slope and band on the evaluation grid."""
    target = TARGETS[name]
    x_train = np.linspace(-1, 1, cfg.num_train)
    a = fit_output_layer(x_train, target(x_train), width=width, steepness=cfg.steepness)
    out, slope = forward(x_eval, a, steepness=cfg.steepness)
    err = np.abs(out - target(x_eval))
    grid = out[:num_grid]
    inside = (grid > 0.1) & (grid < 0.9)
    return {"out": grid, "sup": float(err.max()), "l2": float(np.sqrt(2 * np.mean(err[:num_grid] ** 2))),
            "slope": float(np.abs(slope).max()), "band": float(2 * inside.mean()),
            "crosses": bool(grid.min() <= 0.1 and grid.max() >= 0.9)}


@register("approximation", chapter="representation", sources=("002", "004"))
class Approximation(Study[ApproximationConfig]):
    """Universal approximation vs discontinuities (Hornik et al. 1989). Sources: 002, 004."""

    claim = ("One hidden layer approximates any continuous function on a compact set to any precision, given enough "
             "units; but a continuous network cannot represent a discontinuous function: for a unit jump its sup-norm "
             "error stays at least 1/2 whatever the width, and the band where it is wrong narrows only as its slope "
             "grows.")
    Config = ApproximationConfig
    presets = {
        "tiny": {"widths": (1, 4, 16, 64), "num_train": 401, "num_eval": 2001, "num_pairs": 2, "num_path": 41,
                 "epochs": 5},
        "full": {"widths": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), "num_train": 8001,
                 "num_eval": 40001, "num_pairs": 10, "num_path": 1001, "epochs": 60},
    }

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        near = np.logspace(-12, -3, 40)
        x_eval = np.concatenate([np.linspace(-1, 1, cfg.num_eval), -near, near])
        fits = {name: [fit_width(name, w, cfg, x_eval, cfg.num_eval) for w in cfg.widths]
                for name in ctx.progress.track(list(TARGETS), description="width sweeps")}
        smooth, step = fits["smooth"], fits["step"]
        first, last, m = cfg.widths[0], cfg.widths[-1], Metrics()
        m.add("smooth_sup_first", smooth[0]["sup"], "abs", f"sup error, smooth target, width {first}")
        m.add("smooth_sup_last", smooth[-1]["sup"], "abs", f"sup error, smooth target, width {last}")
        m.add("smooth_l2_last", smooth[-1]["l2"], "L2", f"L2 error on [-1, 1], smooth target, width {last}")
        m.add("step_sup_min", min(f["sup"] for f in step), "abs", "smallest sup error of the step fit over the widths")
        m.add("step_l2_first", step[0]["l2"], "L2", f"L2 error, step, width {first}")
        m.add("step_l2_last", step[-1]["l2"], "L2", f"L2 error, step, width {last}")
        m.add("step_slope_last", step[-1]["slope"], "1/x", f"max slope of the step fit, width {last}")
        m.add("step_band_last", step[-1]["band"], "x", f"width of the band 0.1 < f < 0.9, width {last}")
        m.add("band_times_slope_min", min((f["band"] * f["slope"] for f in step if f["crosses"]), default=None), "",
              "smallest band width * max slope over fits that cross the band (>= 0.8)")
        paths = self.paths(ctx)
        m.add("path_min_top_prob_max", max(p["min_top"] for p in paths), "probability",
              "largest (over pairs) of the lowest top-class probability along the path")
        m.add("path_undecided_fraction", float(np.mean([p["undecided"] for p in paths])), "fraction",
              "mean fraction of the path where the top probability is < 0.9")
        return self.result(ctx, metrics=m, figures=self.figures(fits, x_eval[:cfg.num_eval], paths))

    def paths(self, ctx: Context) -> list[dict]:
        cfg, data = self.config, digits()
        with ctx.seeded_torch("init", "mlp"):
            model = build("mlp")
        fit(model, data.train, val=data.val, ctx=ctx, config=TrainConfig(epochs=cfg.epochs, eval_train=False),
            description="train mlp")
        pred = predict_logits(model, data.test.x).argmax(1)
        t, out, stride = torch.linspace(0, 1, cfg.num_path).view(-1, 1, 1, 1), [], max(1, (cfg.num_path - 1) // 8)
        for a in range(cfg.num_pairs):
            b = (a + 1) % 10
            ia = int(torch.nonzero((data.test.y == a) & (pred == a))[0])
            ib = int(torch.nonzero((data.test.y == b) & (pred == b))[0])
            xs = (1 - t) * data.test.x[ia] + t * data.test.x[ib]
            top, cls = torch.softmax(predict_logits(model, xs), dim=1).max(1)
            out.append({"a": a, "b": b, "top": top.tolist(), "min_top": float(top.min()),
                        "undecided": float((top < 0.9).float().mean()), "images": xs[::stride, 0],
                        "captions": [f"t={float(t[i]):.2f}: {int(cls[i])} ({float(top[i]):.0%})"
                                     for i in range(0, cfg.num_path, stride)]})
        return out

    def figures(self, fits: dict, x: np.ndarray, paths: list[dict]) -> list[Figure]:
        cfg = self.config
        errors = Figure("errors", "Approximation error vs width", [
            figures.lines([figures.series(f"{name}, {kind}", cfg.widths, [f[kind] for f in fits[name]])
                           for name in fits for kind in ("sup", "l2")],
                          title="one hidden layer, tanh", xlabel="hidden units", ylabel="error", xscale="log",
                          yscale="log", hlines=[{"y": 0.5, "label": "1/2: the jump's sup-error floor"}]),
        ], caption="The smooth target's errors fall with width; the step's L2 error falls while its sup error never "
                   "drops below 1/2.")
        shown = sorted({0, len(cfg.widths) // 2, len(cfg.widths) - 1})
        stride = max(1, len(x) // 1000)
        fits_fig = Figure("fits", "Fits at a few widths", [
            figures.lines([figures.series("target", x[::stride], TARGETS[name](x[::stride]), style="line")]
                          + [figures.series(f"n = {cfg.widths[i]} units", x[::stride], fits[name][i]["out"][::stride],
                                            style="line")
                             for i in shown], title=name, xlabel="x", ylabel="f(x)")
            for name in fits],
            caption="Near the jump a continuous fit must pass through every value between 0 and 1.")
        step = fits["step"]
        slopes = [f["slope"] for f in step]
        band = Figure("band", "Undecided band vs slope", [
            figures.lines([figures.series("measured band (0.1 < f < 0.9)", slopes, [f["band"] for f in step],
                                          style="points"),
                           figures.series("0.8 / slope (lower bound)", slopes, [0.8 / s for s in slopes],
                                          style="line")],
                          title="step target", xlabel="max slope |f'|", ylabel="band width", xscale="log",
                          yscale="log"),
        ], caption="The band narrows only as the slope grows. Each point is one width; the mean value theorem puts "
                   "every fit that crosses the band on or above the line.")
        t = np.linspace(0, 1, cfg.num_path)
        path = Figure("path", "Interpolating between two digits through a trained classifier", [
            figures.lines([figures.series(f"{p['a']} -> {p['b']}", t, p["top"], style="line") for p in paths],
                          title="top-class probability along the path", xlabel="t  ((1 - t) x_a + t x_b)",
                          ylabel="max probability", ylim=(0, 1.02), hlines=[{"y": 0.5, "label": "1/2"}]),
            figures.images(paths[0]["images"], ncols=len(paths[0]["images"]),
                           title=f"path {paths[0]['a']} -> {paths[0]['b']}",
                           captions=paths[0]["captions"]),
        ], caption="The classifier is continuous in its input, so between an 'a' and a 'b' it passes through inputs "
                   "where "
                   "it is undecided. Image captions: t, the predicted class and its probability.")
        return [errors, fits_fig, band, path]

    def judge(self, m: MetricValues) -> Verdict:
        sup_last, l2_first, bts = m["smooth_sup_last"], m["step_l2_first"], m["band_times_slope_min"]
        parts = {
            "smooth": every([at_most(sup_last, 0.05), at_most(None if sup_last is None else 10 * sup_last,
                                                              m["smooth_sup_first"])]),
            "jump": every([at_least(m["step_sup_min"], 0.499),
                           at_most(m["step_l2_last"], None if l2_first is None else 0.5 * l2_first)]),
            "band": bts is None or bts >= 0.8,  # None: no fit crossed the band, so there was nothing to bound
            "path": at_most(m["path_min_top_prob_max"], 0.6),
        }
        cfg = self.config
        text = (f"Smooth target: sup error {fmt(m['smooth_sup_first'], '.2g')} at {cfg.widths[0]} unit(s) -> "
                f"{fmt(sup_last, '.2g')} at {cfg.widths[-1]}; step: sup error >= {fmt(m['step_sup_min'], '.3f')} at "
                f"every width while L2 falls {fmt(l2_first, '.3f')} -> {fmt(m['step_l2_last'], '.3f')}; band "
                f"{fmt(m['step_band_last'], '.4f')} at slope {fmt(m['step_slope_last'], '.0f')} (band x slope >= "
                f"{fmt(bts, '.2f')}); digit paths drop to a top probability of <= "
                f"{fmt(m['path_min_top_prob_max'], '.2f')}")
        return Verdict.combine(parts, text, decisive=("smooth", "jump"))
