"""Depth: gradients shrink or grow geometrically with depth; initialization and residuals keep them flowing.

Source 004: #params in O(L n^2), #paths in O(n^L); ||grad_x f|| <= ||grad_y f|| * prod_l ||W_l||_op * c_sigma,
so layers with c_l < 1 make gradients vanish; remedies: initialization, constrained optimization,
residual connections. Glorot, Bengio. Understanding the difficulty of training deep feedforward
networks. AISTATS 2010. He, Zhang, Ren, Sun. Delving deep into rectifiers. ICCV 2015; Deep residual
learning for image recognition. CVPR 2016 (who attribute the degradation of deep plain nets to
optimization difficulty, "unlikely to be caused by vanishing gradients": hence both the gradient
ratios and the trained accuracies are reported, and neither is read as the whole story).

Protocol: MLPs on digits (`resnet-mlp`), width `width`, depth L (linear layers) over `depths`; every
activation x initialization (small normal N(0, 0.01^2), Xavier, He) x architecture: plain; residual
h + s * act(W h + b) with s = 1/sqrt(L - 2) ("residual"); the same with s = 1 ("residual-unscaled",
whose activations grow every block); and a constrained arm, hidden weights orthogonal at initialization
and kept orthogonal in training ("constrained"). At initialization, in float64 on `num_probe` training
digits: ||dJ/dW_l|| for every layer (and the ratio first / last layer), the gradient ratio
||grad_x J|| / ||grad_y J|| (y: the logits; mean over examples), and for every example the measured
||grad_x J|| against the bound ||grad_y J|| * prod_l c_l (c_l: ||W_l||_op by SVD, activation slopes
1, 1, 1/4 for ReLU, tanh, sigmoid; a residual block contributes 1 + s * c_W * c_sigma). Then the
`train_configs` are trained at depth `train_depth` (Adam, fixed epochs). Parameter and path counts of
the plain and residual nets are counted through the modules and compared with the closed forms
P = d n + n + (L-2)(n^2 + n) + n C + C, paths = d n^(L-1) C (plain) and d (n+1)^(L-2) n C (residual).

Verdict: at the deepest depth, "bound" = measured <= bound * (1 + 1e-9) for every example of every
configuration at every depth; "vanish" = sigmoid / small / plain has gradient ratio <= 1e-6;
"flow" = relu / he / plain and relu / he / residual both have ratios in [0.1, 10]; "train" = at
`train_depth`, relu / he / residual reaches >= 0.9 test accuracy and sigmoid / small / plain stays
<= 0.5. The claim holds if all four hold, fails if "bound" or "vanish" does not, and is inconclusive
otherwise (also when a needed configuration is not in the grid).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.gradients import gradient_bound, layer_gradient_norms
from limitlab.models import TrainConfig, build, evaluate, fit
from limitlab.models.resnet_mlp import Residual
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

ARCHS = ("plain", "residual", "residual-unscaled")
TOLERANCE = 1e-9  # float64 rounding allowance of the bound check


@dataclass(frozen=True)
class DepthConfig:
    depths: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    width: int = 64
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")
    inits: tuple[str, ...] = ("small", "xavier", "he")
    archs: tuple[str, ...] = ARCHS
    constrained: bool = True  # add the orthogonal arm for every activation
    num_probe: int = 128
    train_depth: int = 16
    train_configs: tuple[str, ...] = ("sigmoid/small/plain", "relu/he/plain", "relu/he/residual",
                                      "relu/he/residual-unscaled", "tanh/orthogonal/constrained")
    epochs: int = 10
    lr: float = 1e-3

    def __post_init__(self) -> None:
        check(len(self.depths) >= 1 and min(self.depths) >= 2, f"depths={self.depths}; expected values >= 2")
        check(self.width >= 1 and self.num_probe >= 1, "width and num_probe must be >= 1")
        check(set(self.activations) <= {"sigmoid", "tanh", "relu", "gelu"}, f"activations={self.activations}; "
              "expected a subset of sigmoid, tanh, relu, gelu")
        check(set(self.inits) <= {"small", "xavier", "he", "default"}, f"inits={self.inits}; expected a subset "
              "of small, xavier, he, default")
        check(set(self.archs) <= set(ARCHS), f"archs={self.archs}; expected a subset of {', '.join(ARCHS)}")
        check(self.train_depth >= 2 and self.epochs >= 1 and self.lr > 0, "expected train_depth >= 2, epochs >= 1, lr > 0")
        for name in self.train_configs:
            parts = name.split("/")
            check(len(parts) == 3 and parts[2] in (*ARCHS, "constrained"),
                  f"train_configs entry {name!r}; expected 'act/init/arch', e.g. relu/he/residual")


def make(act: str, init: str, arch: str, depth: int, width: int) -> nn.Sequential:
    """One configuration as a zoo model."""
    scale = 1.0 if arch == "residual-unscaled" else 1.0 / math.sqrt(max(depth - 2, 1))
    return build("resnet-mlp", width=width, depth=depth, act=act, init=init, residual=arch.startswith("residual"),
                 branch_scale=scale, constrain_orthogonal=arch == "constrained")


def count_paths(module: nn.Module, counts: torch.Tensor) -> torch.Tensor:
    """Input-to-unit path counts pushed through the modules: a dense layer sums over its inputs."""
    if isinstance(module, nn.Sequential):
        for child in module:
            counts = count_paths(child, counts)
        return counts
    if isinstance(module, Residual):
        return counts + count_paths(module.branch, counts)
    if isinstance(module, nn.Linear):
        return torch.full((module.out_features,), float(counts.sum()), dtype=torch.float64)
    return counts


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
                 "train_configs": ("sigmoid/small/plain", "sigmoid/xavier/plain", "tanh/xavier/plain", "relu/he/plain",
                                   "relu/he/residual", "relu/he/residual-unscaled", "tanh/orthogonal/constrained")},
    }

    def configs(self) -> list[tuple[str, str, str]]:
        cfg = self.config
        out = [(a, i, arch) for a in cfg.activations for i in cfg.inits for arch in cfg.archs]
        return out + ([(a, "orthogonal", "constrained") for a in cfg.activations] if cfg.constrained else [])

    def probe(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
        model = model.double()
        norms = list(layer_gradient_norms(model, x, y).values())
        bound = gradient_bound(model, x, y)
        flow = bound.measured / bound.output.clamp_min(torch.finfo(torch.float64).tiny)
        return {"norms": norms, "weight_ratio": norms[0] / norms[-1] if norms[-1] > 0 else math.inf,
                "ratio": float(flow.mean()), "bound_ratio": float(bound.ratio.max()),
                "measured": float(bound.measured.mean()), "bound": float(bound.bound.mean())}

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        x, y = data.train.x[:cfg.num_probe].double(), data.train.y[:cfg.num_probe]
        grid = {(c, d): self.probe(make(*c, d, cfg.width), x, y)
                for d in ctx.progress.track(cfg.depths, description="gradients at init") for c in self.configs()}
        deep = max(cfg.depths)
        metrics: dict[str, Metric | tuple] = {
            "bound_max_ratio": (max(g["bound_ratio"] for g in grid.values()), "ratio",
                                "largest measured ||grad_x J|| / bound over all examples and configurations"),
            "bound_violations": (sum(g["bound_ratio"] > 1 + TOLERANCE for g in grid.values()), "count",
                                 "configurations with an example above the bound"),
            "num_configs": (len(grid), "count", "configurations probed at initialization"),
        }
        for c in self.configs():
            metrics[f"grad_ratio_{'_'.join(c)}"] = (grid[c, deep]["ratio"], "ratio",
                                                    f"||grad_x J|| / ||grad_y J|| at init, depth {deep}, {'/'.join(c)}")
            metrics[f"weight_grad_ratio_{'_'.join(c)}"] = (grid[c, deep]["weight_ratio"], "ratio",
                                                           f"||dJ/dW_1|| / ||dJ/dW_L|| at init, depth {deep}, {'/'.join(c)}")
        metrics.update(self.counts())
        trained = self.train(ctx)
        for name, (acc, train_acc, ratio) in trained.items():
            key = name.replace("/", "_")
            metrics[f"test_acc_{key}"] = (acc, "fraction", f"test accuracy after training, depth {cfg.train_depth}, {name}")
            metrics[f"train_acc_{key}"] = (train_acc, "fraction", f"training accuracy, depth {cfg.train_depth}, {name}")
        return self.result(ctx, metrics=metrics, figures=self.figures(grid, trained), tables=self.tables(grid))

    def counts(self) -> dict[str, tuple]:
        """Parameters and paths counted through the modules vs the closed forms, at every depth."""
        cfg, n, d, c = self.config, self.config.width, 64, 10
        worst_p, worst_paths = 0.0, 0.0
        for depth in cfg.depths:
            for arch in ("plain", "residual"):
                model = make("relu", "he", arch, depth, n)
                params = sum(p.numel() for p in model.parameters())
                paths = float(count_paths(model, torch.ones(d, dtype=torch.float64)).sum())
                form_p = d * n + n + (depth - 2) * (n * n + n) + n * c + c
                form_paths = d * (n if arch == "plain" else n + 1) ** (depth - 2) * n * c
                worst_p = max(worst_p, abs(params - form_p) / form_p)
                worst_paths = max(worst_paths, abs(paths - form_paths) / form_paths)
        return {"params_formula_rel_error": (worst_p, "relative", "largest |counted - formula| / formula, parameters"),
                "paths_formula_rel_error": (worst_paths, "relative", "largest |counted - formula| / formula, paths")}

    def train(self, ctx: Context) -> dict[str, tuple[float, float, float]]:
        cfg, data = self.config, digits()
        out = {}
        for name in ctx.progress.track(cfg.train_configs, description=f"training depth {cfg.train_depth}"):
            act, init, arch = name.split("/")
            model = make(act, init, arch, cfg.train_depth, cfg.width)
            ratio = self.probe(model, data.train.x[:cfg.num_probe].double(), data.train.y[:cfg.num_probe])
            model.float()  # float32 -> float64 -> float32 is exact: the probe leaves the weights as they were
            history = fit(model, data.train, val=data.val, ctx=ctx, description=f"train {name}",
                          config=TrainConfig(epochs=cfg.epochs, lr=cfg.lr, patience=None))
            out[name] = (evaluate(model, data.test)[1], history.train_acc[-1], ratio["ratio"])
        return out

    def figures(self, grid: dict, trained: dict) -> list[Figure]:
        cfg = self.config
        deep = max(cfg.depths)
        label = {"plain": "plain", "residual": "residual 1/√(L-2)", "residual-unscaled": "residual, scale 1",
                 "constrained": "kept orthogonal"}
        per_layer = Figure("layer-gradients", f"Gradient norm per layer at initialization, depth {deep}", [
            figures.lines([figures.series(f"{i} init, {label[arch]}", list(range(1, deep + 1)),
                                          grid[(a, i, arch), deep]["norms"])
                           for (a_, i, arch) in self.configs() if a_ == a],
                          title=a, xlabel="layer l (1 = input layer)", ylabel="||dJ/dW_l||", yscale="log")
            for a in cfg.activations],
            caption="Frobenius norm of the loss gradient reaching each layer's weights (float64, digits). A line falling "
                    "towards layer 1 is a vanishing gradient. dJ/dW_l also scales with layer l's input: with small weights "
                    "the forward signal shrinks too, so those lines are flat but far down.")
        ratios = Figure("ratio-vs-depth", "Gradient reaching the input / gradient at the output, vs depth", [
            figures.lines([figures.series(f"{i} init, {label[arch]}", cfg.depths,
                                          [grid[(a, i, arch), d]["ratio"] for d in cfg.depths])
                           for (a_, i, arch) in self.configs() if a_ == a],
                          title=a, xlabel="depth L (linear layers)", ylabel="||grad_x J|| / ||grad_y J||", yscale="log",
                          hlines=[{"y": 1.0, "label": "no loss"}])
            for a in cfg.activations],
            caption="Mean over probe digits of ||grad_x J|| / ||grad_y J|| (y: the logits) at initialization. Geometric "
                    "decay with depth when the layers' factors c_l are below 1; growth when above.")
        pts = list(grid.values())
        lo = min(math.log10(max(g["measured"], 1e-300)) for g in pts)
        hi = max(math.log10(max(g["bound"], 1e-300)) for g in pts)
        bound = Figure("bound", "The bound holds in every configuration", [
            figures.lines([figures.series(a, [math.log10(max(grid[k]["bound"], 1e-300)) for k in grid if k[0][0] == a],
                                          [math.log10(max(grid[k]["measured"], 1e-300)) for k in grid if k[0][0] == a],
                                          style="points") for a in cfg.activations]
                          + [figures.series("measured = bound", [lo, hi], [lo, hi], style="line")],
                          title=f"{len(grid)} configurations", xlabel="log10 bound ||grad_y J|| Π c_l (mean)",
                          ylabel="log10 measured ||grad_x J|| (mean)")],
            caption="Every point lies on or below the diagonal: the product of operator norms and activation slopes bounds "
                    "the input gradient. The bound is loose: its slack grows with depth.")
        names = list(trained)
        train = Figure("trained", f"Trained at depth {cfg.train_depth}", [
            figures.bars(names, [{"label": "test accuracy", "values": [trained[n][0] for n in names]},
                                 {"label": "training accuracy", "values": [trained[n][1] for n in names]}],
                         title=f"after {cfg.epochs} epochs of Adam", ylabel="accuracy", ylim=(0, 1.05)),
            figures.bars(names, [{"label": "log10 ||grad_x J|| / ||grad_y J|| at init",
                                  "values": [math.log10(max(trained[n][2], 1e-300)) for n in names]}],
                         title="gradient ratio input / output at init", ylabel="log10 ratio"),
        ], caption="Accuracy and the gradient ratio each configuration started from. Deep plain nets can fail to train "
                   "for reasons other than gradient size (He et al. 2016): read both panels.")
        return [ratios, per_layer, bound, train] if trained else [ratios, per_layer, bound]

    def tables(self, grid: dict) -> list[Table]:
        cfg = self.config
        rows = [["/".join(c)] + [f"{grid[c, d]['ratio']:.1e}" for d in cfg.depths] +
                [f"{max(grid[c, d]['bound_ratio'] for d in cfg.depths):.3f}"] for c in self.configs()]
        return [Table("Gradient ratio ||grad_x J|| / ||grad_y J|| at initialization",
                      ["activation/init/arch", *[f"L={d}" for d in cfg.depths], "max measured/bound"], rows,
                      caption="The last column must never exceed 1.")]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config

        def get(key: str) -> float | None:
            return m.get(key)

        r_sig, r_plain, r_res = (get(f"grad_ratio_{k}")
                                 for k in ("sigmoid_small_plain", "relu_he_plain", "relu_he_residual"))
        acc_res, acc_sig = get("test_acc_relu_he_residual"), get("test_acc_sigmoid_small_plain")
        parts = {
            "bound": m["bound_violations"] == 0,
            "vanish": r_sig is not None and r_sig <= 1e-6,
            "flow": r_plain is not None and r_res is not None and all(0.1 <= r <= 10 for r in (r_plain, r_res)),
            "train": acc_res is not None and acc_sig is not None and acc_res >= 0.9 and acc_sig <= 0.5,
        }
        fmt = lambda v: "n/a" if v is None else f"{v:.1e}"  # noqa: E731
        pct = lambda v: "n/a" if v is None else f"{v:.1%}"  # noqa: E731
        text = (f"The bound held in {m['num_configs'] - m['bound_violations']:.0f}/{m['num_configs']:.0f} configurations "
                f"(max measured/bound {m['bound_max_ratio']:.3f}); at depth {max(cfg.depths)} the gradient ratio "
                f"||grad_x J||/||grad_y J|| is {fmt(r_sig)} for sigmoid/small/plain, {fmt(r_plain)} for relu/he/plain, "
                f"{fmt(r_res)} for "
                f"relu/he/residual; trained at depth {cfg.train_depth}: relu/he/residual {pct(acc_res)}, "
                f"sigmoid/small/plain {pct(acc_sig)} test accuracy")
        failed = [k for k, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        measured_vanish_failed = "vanish" in failed and r_sig is not None  # missing configurations: inconclusive
        status = "fails" if "bound" in failed or measured_vanish_failed else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
