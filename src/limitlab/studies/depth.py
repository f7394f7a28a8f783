"""Depth: gradients shrink or grow geometrically with depth; initialization and residuals keep them flowing.

Source 004: #params in O(L n^2), #paths in O(n^L); ||grad_x f|| <= ||grad_y f|| * prod_l ||W_l||_op * c_sigma, so
c_l < 1 makes gradients vanish; remedies: initialization, constrained optimization, residual connections. Glorot,
Bengio. Understanding the difficulty of training deep feedforward networks. AISTATS 2010. He et al. Delving deep into
rectifiers. ICCV 2015; Deep residual learning. CVPR 2016 (plain deep nets degrade by optimization difficulty,
"unlikely to be caused by vanishing gradients": so both gradient ratios and trained accuracies are reported).

Protocol: MLPs on digits (`limitlab.models.deep_mlp`) of width `width` and depth L (linear layers) over `depths`;
every activation x initialization (small normal N(0, 0.01^2); Glorot & Bengio's "standard" U[-1/sqrt(n), 1/sqrt(n)],
zero biases, their eq. 1; Xavier; He) x architecture: plain; residual h + s * act(W h + b), s = 1/sqrt(L - 2)
("residual"); the same with s = 1 ("residual-unscaled": activations grow every block); hidden weights orthogonal at
initialization and kept so in training ("constrained"). At initialization, in float64 on `num_probe` training digits
(`limitlab.gradients.flow`): ||dJ/dW_l|| per layer, the ratio ||grad_x J|| / ||grad_y J|| (y: the logits; mean over
examples) and per example ||grad_x J|| against the bound ||grad_y J|| * prod_l c_l (c_l: ||W_l||_op by SVD; slopes 1,
1, 1/4 for ReLU, tanh, sigmoid; a residual block 1 + s c_W c_sigma); an example with a gradient norm below 1.5e-154
is not checked, and counted (a float64 norm's squares underflow there: it reads 0 when exploding logits saturate the
softmax). Then the `train_configs` are trained at depth `train_depth` (Adam, fixed epochs). Parameters and paths of
the plain and residual nets, counted through the modules, against P = d n + n + (L-2)(n^2 + n) + n C + C and paths
d n^(L-1) C (plain), d (n+1)^(L-2) n C (residual).

Verdict: at the deepest depth, "bound" = measured <= bound * (1 + 1e-9) for every checked example of every
configuration at every depth; "vanish" = sigmoid/small/plain and sigmoid/standard/plain (Glorot & Bengio's setting)
both have gradient ratio <= 1e-6; "flow" = relu/he/plain and relu/he/residual both have ratios in [0.1, 10]; "train" =
at `train_depth`, relu/he/residual reaches >= 0.9 test accuracy and sigmoid/small/plain stays <= 0.5, each by more
than two binomial standard errors on the 360 test digits (and than the spread, for means over seeds). The claim holds
if all four hold, fails if "bound" or "vanish" does not, and is inconclusive otherwise (also when a needed
configuration is not in the grid).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf
from limitlab.context import Context
from limitlab.data import digits
from limitlab.gradients.flow import gradient_flow
from limitlab.models import TrainConfig, evaluate, fit
from limitlab.models.counting import closed_form_errors
from limitlab.models.deep_mlp import ARCHS, LABELS, check_name, configurations, deep_mlp
from limitlab.models.layers import ACTIVATIONS
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import binomial_noise, margin
from limitlab.study import Study, register


@dataclass(frozen=True)
class DepthConfig(Checked):
    constraints: ClassVar = {
        "depths": Each(Interval(2), min_len=1), "width": Interval(1), "num_probe": Interval(1, 1077),
        "activations": Each(OneOf(tuple(ACTIVATIONS)), min_len=1, unique=True), "archs": Each(OneOf(ARCHS), min_len=1),
        "inits": Each(OneOf(("small", "standard", "xavier", "he", "default")), min_len=1, unique=True),
        "train_depth": Interval(2), "epochs": Interval(1), "lr": Interval(0, closed="neither")}
    depths: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    width: int = 64
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")
    inits: tuple[str, ...] = ("small", "standard", "xavier", "he")
    archs: tuple[str, ...] = ARCHS
    constrained: bool = True  # add the orthogonal arm for every activation
    num_probe: int = 128  # training digits the gradients at initialization are measured on
    train_depth: int = 16
    train_configs: tuple[str, ...] = ("sigmoid/small/plain", "sigmoid/standard/plain", "relu/he/plain",
                                      "relu/he/residual", "relu/he/residual-unscaled", "tanh/orthogonal/constrained")
    epochs: int = 10
    lr: float = 1e-3

    def validate(self) -> None:
        for name in self.train_configs:
            check_name(name)


@register("depth", chapter="representation", sources=("004",))
class Depth(Study[DepthConfig]):
    """Gradient flow with depth (Glorot & Bengio 2010; He et al. 2015, 2016). Sources: 004."""

    claim = ("Gradients shrink or blow up geometrically with depth as the product of layer operator norms and "
             "activation slopes; good initialization and residual connections keep them flowing and make deep nets "
             "trainable.")
    Config = DepthConfig
    presets = {
        "tiny": {"depths": (2, 12), "width": 16, "num_probe": 16, "train_depth": 8, "epochs": 4, "lr": 0.005,
                 "train_configs": ("sigmoid/small/plain", "relu/he/residual")},
        "full": {"depths": (2, 4, 6, 8, 12, 16, 24, 32, 48, 64), "train_depth": 64, "epochs": 40,
                 "train_configs": ("sigmoid/small/plain", "sigmoid/standard/plain", "sigmoid/xavier/plain",
                                   "tanh/xavier/plain", "relu/he/plain", "relu/he/residual",
                                   "relu/he/residual-unscaled", "tanh/orthogonal/constrained")},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        x, y = data.train.x[:cfg.num_probe].double(), data.train.y[:cfg.num_probe]
        configs = configurations(cfg.activations, cfg.inits, cfg.archs, constrained=cfg.constrained)
        grid = {(c, d): gradient_flow(deep_mlp(*c, d, cfg.width, ctx=ctx).double(), x, y)
                for d in ctx.progress.track(cfg.depths, description="gradients at init") for c in configs}
        deep, ratios = max(cfg.depths), [g.bound_ratio for g in grid.values() if g.bound_ratio == g.bound_ratio]
        m.add("bound_max_ratio", max(ratios, default=None), "ratio",
              "largest measured ||grad_x J|| / bound over all checked examples and configurations")
        m.add("bound_violations", sum(r > 1 + 1e-9 for r in ratios), "count",  # 1e-9: float64 rounding allowance
              "configurations with a checked example above the bound")
        m.add("num_configs", len(grid), "count", "configurations probed at initialization")
        m.add("bound_unchecked", sum(g.unchecked for g in grid.values()), "examples", "(example, configuration) "
              "pairs not checked: a float64 gradient norm below 1.5e-154 (its squares underflow)")
        for c in configs:
            m.add(f"grad_ratio_{'_'.join(c)}", grid[c, deep].ratio, "ratio", f"||grad_x J|| / ||grad_y J|| at init, "
                  f"depth {deep}, {'/'.join(c)}")
            m.add(f"weight_grad_ratio_{'_'.join(c)}", grid[c, deep].weight_ratio, "ratio",
                  f"||dJ/dW_1|| / ||dJ/dW_L|| at init, depth {deep}, {'/'.join(c)}")
        errors = closed_form_errors(lambda res, d: deep_mlp("relu", "he", "residual" if res else "plain", d, cfg.width),
                                    cfg.depths, inputs=64, width=cfg.width, classes=10)
        m.add("params_formula_rel_error", errors[0], "relative", "largest |counted - formula| / formula, parameters")
        m.add("paths_formula_rel_error", errors[1], "relative", "largest |counted - formula| / formula, paths")
        trained = self.train(ctx)
        for name, (acc, train_acc, _) in trained.items():
            key = name.replace("/", "_")
            m.add(f"test_acc_{key}", acc, "fraction", f"test accuracy after training, depth {cfg.train_depth}, {name}",
                  noise=binomial_noise(acc, len(digits().test)))
            m.add(f"train_acc_{key}", train_acc, "fraction", f"training accuracy, depth {cfg.train_depth}, {name}")
        return self.result(ctx, metrics=m, figures=self.figures(grid, trained))

    def train(self, ctx: Context) -> dict[str, tuple[float, float, float]]:
        """(test accuracy, training accuracy, gradient ratio at init) per trained configuration."""
        cfg, data, out = self.config, digits(), {}
        x, y = data.train.x[:cfg.num_probe].double(), data.train.y[:cfg.num_probe]
        for name in ctx.progress.track(cfg.train_configs, description=f"training depth {cfg.train_depth}"):
            model = deep_mlp(*check_name(name), cfg.train_depth, cfg.width, ctx=ctx)
            ratio = gradient_flow(model.double(), x, y).ratio
            model.float()  # float32 -> float64 -> float32 is exact: the probe leaves the weights as they were
            history = fit(model, data.train, val=data.val, ctx=ctx, description=f"train {name}",
                          config=TrainConfig(epochs=cfg.epochs, lr=cfg.lr, patience=None))
            out[name] = (evaluate(model, data.test)[1], history.train_acc[-1], ratio)
        return out

    def figures(self, grid: dict, trained: dict) -> list[Figure]:
        cfg, deep = self.config, max(self.config.depths)
        lg = lambda v: math.log10(max(v, 1e-300))  # noqa: E731  (a gradient that underflowed to 0 at the floor)

        def per_activation(x, y, **options) -> list[dict]:  # one panel per activation, one line per init/arch
            return [figures.lines([figures.series(f"{i} init, {LABELS[arch]}", x, y(c)) for c in dict.fromkeys(
                k[0] for k in grid) for (a_, i, arch) in [c] if a_ == a], title=a, yscale="log", **options)
                    for a in cfg.activations]

        per_layer = Figure("layer-gradients", f"Gradient norm per layer at initialization, depth {deep}",
                           per_activation(list(range(1, deep + 1)), lambda c: grid[c, deep].norms,
                                          xlabel="layer l (1 = input layer)", ylabel="||dJ/dW_l||"),
                           caption="||dJ/dW_l||_F: a line falling towards layer 1 is a vanishing gradient. It scales "
                                   "with layer l's input too: small weights shrink the signal (flat lines far down).")
        ratios = Figure("ratio-vs-depth", "Gradient reaching the input / gradient at the output, vs depth",
                        per_activation(cfg.depths, lambda c: [grid[c, d].ratio for d in cfg.depths],
                                       xlabel="depth L (linear layers)", ylabel="||grad_x J|| / ||grad_y J||",
                                       hlines=[{"y": 1.0, "label": "no loss"}]),
                        caption="Mean over probe digits of ||grad_x J|| / ||grad_y J|| (y: the logits) at init: "
                                "geometric decay with depth when the factors c_l are below 1, growth when above.")
        lo, hi = min(lg(g.measured) for g in grid.values()), max(lg(g.bound) for g in grid.values())
        bound = Figure("bound", "The bound holds in every configuration", [
            figures.lines([figures.series(a, [lg(g.bound) for k, g in grid.items() if k[0][0] == a],
                                          [lg(g.measured) for k, g in grid.items() if k[0][0] == a], style="points")
                           for a in cfg.activations]
                          + [figures.series("measured = bound", [lo, hi], [lo, hi], style="line")],
                          title=f"{len(grid)} configurations", xlabel="log10 bound ||grad_y J|| Π c_l (mean)",
                          ylabel="log10 measured ||grad_x J|| (mean)")],
            caption="Every point lies on or below the diagonal: the product of operator norms and activation slopes "
                    "bounds the input gradient. The bound is loose: its slack grows with depth.")
        names = list(trained)
        train = Figure("trained", f"Trained at depth {cfg.train_depth}", [
            figures.bars(names, [{"label": "test accuracy", "values": [trained[n][0] for n in names]},
                                 {"label": "training accuracy", "values": [trained[n][1] for n in names]}],
                         title=f"after {cfg.epochs} epochs of Adam", ylabel="accuracy", ylim=(0, 1.05)),
            figures.bars(names, [{"label": "log10 ||grad_x J|| / ||grad_y J|| at init",
                                  "values": [lg(trained[n][2]) for n in names]}],
                         title="gradient ratio input / output at init", ylabel="log10 ratio"),
        ], caption="Accuracy, and the gradient ratio each configuration started from: deep plain nets can fail to "
                   "train for reasons other than gradient size (He et al. 2016).")
        return [ratios, per_layer, bound, train] if trained else [ratios, per_layer, bound]

    def judge(self, m: MetricValues) -> Verdict:
        r = {k: m[f"grad_ratio_{k.replace('/', '_')}"] for k in (
            "sigmoid/small/plain", "sigmoid/standard/plain", "relu/he/plain", "relu/he/residual")}
        keys = {k: f"test_acc_{k.replace('/', '_')}" for k in ("relu/he/residual", "sigmoid/small/plain",
                                                                "sigmoid/standard/plain")}
        acc, res, sig = {k: m[v] for k, v in keys.items()}, keys["relu/he/residual"], keys["sigmoid/small/plain"]
        violations, total = m["bound_violations"], m["num_configs"]
        parts = {"bound": None if violations is None else violations == 0,
                 "vanish": every([at_most(r[k], 1e-6) for k in ("sigmoid/small/plain", "sigmoid/standard/plain")]),
                 "flow": every([c for k in ("relu/he/plain", "relu/he/residual")
                                for c in (at_least(r[k], 0.1), at_most(r[k], 10))]),
                 "train": every([at_least(m[res], 0.9, noise=margin(m, res)),
                                 at_most(m[sig], 0.5, noise=margin(m, sig))])}
        text = (f"The bound held in {fmt(None if violations is None or total is None else total - violations, '.0f')}/"
                f"{fmt(total, '.0f')} configurations (max measured/bound "
                f"{fmt(m['bound_max_ratio'], '.3f')}; {fmt(m['bound_unchecked'], '.0f')} (example, configuration) "
                f"pairs unchecked: a float64 gradient norm underflowed); at depth {max(self.config.depths)} "
                "||grad_x J||/||grad_y J|| is "
                + ", ".join(f"{fmt(v, '.1e')} for {k}" for k, v in r.items())
                + f"; trained at depth {self.config.train_depth}, test accuracy "
                + ", ".join(f"{fmt(v, '.1%')} for {k}" for k, v in acc.items()))
        return Verdict.combine(parts, text, decisive=("bound", "vanish"))
