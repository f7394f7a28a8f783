"""AutoML: an RL controller searches architectures; does it beat random search at the same budget?

Zoph, Le. Neural architecture search with reinforcement learning. ICLR 2017, arXiv:1611.01578 (an RNN
controller samples a child, the child is trained, its accuracy is the reward; 12,800 children on
CIFAR-10). Bergstra, Bengio. Random search for hyper-parameter optimization. JMLR 2012. Bergstra et
al. 2011 (TPE), via Optuna (Akiba et al. 2019). Li, Talwalkar. Random search and reproducibility for
neural architecture search. UAI 2019. Source: 002 (learning to learn: the controller / child loop).

Protocol: the search space of `limitlab.nas.space` (MLP or CNN, 1-3 layers, width 8/16/32, kernel 3/5,
relu/tanh/gelu, residual skips: 135 distinct architectures). Three searchers — the LSTM controller
trained with REINFORCE and a moving-average baseline, random search, and Optuna's TPE — each get the
same budget of `num_children` children per search seed, over `num_seeds` seeds. A child is trained
briefly with `limitlab.models.fit` (Adam, `epochs` epochs on the first `num_train` training digits);
its reward is its accuracy on the validation set. A child's initial weights are seeded by its
architecture, so an architecture proposed twice (by any searcher or seed) is trained once and scored
identically (reused within the run and through fit's cache); every proposal still counts against its
searcher's budget. The hand-designed zoo CNN is trained by the same protocol. Test accuracy of each
searcher's best (by validation) architecture is reported beside it.

Verdict: with the mean over seeds of each searcher's best validation accuracy: "finds" = controller best
>= hand-designed CNN's validation accuracy - 0.02; "beats" = controller best >= random search best + 0.01
(one point, at the same number of children). The claim holds if both hold; it fails if "beats" does not
(the controller is not better than random at this budget); it is inconclusive if it beats random but
does not find an architecture near the hand-designed one.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from torch import nn

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, evaluate, fit
from limitlab.nas import (Controller, SearchTrace, build_child, canonical, describe, random_search, reinforce_search,
                          space_size, tpe_search)
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

METHODS = ("controller", "random", "tpe")


@dataclass(frozen=True)
class AutomlConfig:
    methods: tuple[str, ...] = METHODS
    num_children: int = 12  # budget per searcher and seed
    num_seeds: int = 2
    num_train: int = 500  # training digits per child
    epochs: int = 5  # per child
    lr: float = 3e-3  # child learning rate (Adam)
    controller_lr: float = 0.05
    baseline_decay: float = 0.8
    tpe_startup: int = 4  # random children before TPE starts modelling

    def __post_init__(self) -> None:
        check(len(self.methods) >= 1 and set(self.methods) <= set(METHODS),
              f"methods={self.methods}; expected a subset of {', '.join(METHODS)}")
        check("controller" in self.methods and "random" in self.methods,
              f"methods={self.methods}; the verdict compares 'controller' with 'random': keep both")
        check(self.num_children >= 2, f"num_children={self.num_children}; expected >= 2")
        check(self.num_seeds >= 1, f"num_seeds={self.num_seeds}; expected >= 1")
        check(10 <= self.num_train <= 1077, f"num_train={self.num_train}; expected 10..1077 (digits' training set)")
        check(self.epochs >= 1 and self.lr > 0 and self.controller_lr > 0, "epochs, lr, controller_lr must be > 0")
        check(0 <= self.baseline_decay < 1, f"baseline_decay={self.baseline_decay}; expected 0 <= decay < 1")
        check(self.tpe_startup >= 1, f"tpe_startup={self.tpe_startup}; expected >= 1")


@dataclass(frozen=True)
class Child:
    val_acc: float
    test_acc: float
    params: int
    steps: int
    seconds: float


class Trainer:
    """Trains children by the fixed protocol, each distinct architecture once (memo + fit's cache)."""

    def __init__(self, cfg: AutomlConfig, ctx: Context) -> None:
        data = digits()
        self.train, self.val, self.test = data.train.subset(slice(0, cfg.num_train)), data.val, data.test
        self.cfg, self.ctx = cfg, ctx
        self.children: dict[tuple[int, ...], Child] = {}

    def fit(self, model: nn.Module, key: object, description: str) -> Child:
        cfg = self.cfg
        hist = fit(model, self.train, ctx=self.ctx, key={"child": str(key)}, description=description,
                   config=TrainConfig(epochs=cfg.epochs, lr=cfg.lr, batch_size=50, patience=None, eval_train=False))
        return Child(evaluate(model, self.val)[1], evaluate(model, self.test)[1],
                     sum(p.numel() for p in model.parameters()), hist.steps, hist.seconds)

    def __call__(self, choices: tuple[int, ...]) -> float:
        arch = canonical(choices)
        if arch not in self.children:
            with self.ctx.seeded_torch("child", arch):  # initial weights depend on the architecture only
                model = build_child(arch)
            self.children[arch] = self.fit(model, arch, describe(arch))
        return self.children[arch].val_acc


@register("automl", chapter="automl", sources=("002",))
class Automl(Study[AutomlConfig]):
    """Neural architecture search with an RL controller vs random search and TPE (Zoph & Le 2017). Source: 002."""

    claim = ("A controller trained with reinforcement learning on child accuracy finds good architectures "
             "without an expert, at a large compute cost, and beats random search at the same budget.")
    Config = AutomlConfig
    presets = {"tiny": {"num_children": 4, "num_seeds": 1, "num_train": 200, "epochs": 2, "tpe_startup": 2},
               "full": {"num_children": 40, "num_seeds": 5, "num_train": 1077, "epochs": 15}}

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        trainer = Trainer(cfg, ctx)
        traces: dict[str, list[SearchTrace]] = {m: [] for m in cfg.methods}
        baselines: list[list[float]] = []
        seconds = {m: 0.0 for m in cfg.methods}
        for seed in ctx.progress.track(range(cfg.num_seeds), description="search seeds"):
            for method in cfg.methods:
                start = time.perf_counter()
                trace, base = self.search(method, seed, trainer, ctx)
                seconds[method] += time.perf_counter() - start
                traces[method].append(trace)
                if base is not None:
                    baselines.append(base)
        with ctx.seeded_torch("hand-cnn"):
            hand = trainer.fit(build("cnn"), "hand-designed cnn", "hand-designed cnn")
        metrics = self.metrics(traces, trainer, hand)
        tables = self.tables(traces, trainer, hand, seconds)
        return self.result(ctx, metrics=metrics, tables=tables, figures=self.figures(traces, baselines, trainer, hand))

    def search(self, method: str, seed: int, trainer: Trainer, ctx: Context) -> tuple[SearchTrace, list[float] | None]:
        cfg = self.config
        gen = ctx.generator("search", method, seed)
        if method == "controller":
            with ctx.seeded_torch("controller-init", seed):
                controller = Controller()
            return reinforce_search(trainer, num_children=cfg.num_children, controller=controller, generator=gen,
                                    lr=cfg.controller_lr, baseline_decay=cfg.baseline_decay)
        if method == "random":
            return random_search(trainer, num_children=cfg.num_children, generator=gen), None
        return tpe_search(trainer, num_children=cfg.num_children, seed=ctx.derive_seed("tpe", seed),
                          num_startup=cfg.tpe_startup), None

    def metrics(self, traces, trainer: Trainer, hand: Child) -> dict[str, Metric | tuple]:
        cfg = self.config
        out: dict[str, Metric | tuple] = {}
        for m, ts in traces.items():
            best = [t.best()[1] for t in ts]
            tests = [trainer.children[canonical(t.best()[0])].test_acc for t in ts]
            anytime = [float(np.mean(t.best_so_far())) for t in ts]
            out[f"best_val_{m}"] = Metric.over_seeds(best, "fraction", f"{m}: best validation accuracy in {cfg.num_children} children")
            out[f"best_test_{m}"] = Metric.over_seeds(tests, "fraction", f"{m}: test accuracy of its best architecture")
            out[f"anytime_{m}"] = Metric.over_seeds(anytime, "fraction", f"{m}: mean best-so-far over the budget")
            out[f"mean_reward_{m}"] = Metric.over_seeds([float(np.mean(t.rewards)) for t in ts], "fraction",
                                                  f"{m}: mean validation accuracy of the children it proposed")
            out[f"distinct_{m}"] = Metric.over_seeds([len({canonical(c) for c in t.choices}) for t in ts], "count",
                                               f"{m}: distinct architectures among its {cfg.num_children} children")
        third = max(1, cfg.num_children // 3)
        rise = [float(np.mean(t.rewards[-third:]) - np.mean(t.rewards[:third])) for t in traces["controller"]]
        out["controller_reward_rise"] = Metric.over_seeds(rise, "fraction", "controller: mean reward of its last third "
                                                    "of children minus its first third")
        out["hand_val"] = (hand.val_acc, "fraction", "hand-designed zoo CNN, same training: validation accuracy")
        out["hand_test"] = (hand.test_acc, "fraction", "hand-designed zoo CNN: test accuracy")
        out["hand_params"] = (hand.params, "count", "hand-designed zoo CNN: parameters")
        out["children_per_method"] = (cfg.num_children * cfg.num_seeds, "count", "children proposed per searcher (all seeds)")
        out["children_trained"] = (len(trainer.children), "count", "distinct children actually trained (all searchers)")
        out["space_size"] = (space_size(), "count", "distinct architectures in the search space")
        out["training_steps"] = (sum(c.steps for c in trainer.children.values()), "steps",
                                 "optimizer steps spent training all distinct children")
        return out

    def tables(self, traces, trainer: Trainer, hand: Child, seconds: Mapping[str, float]) -> list[Table]:
        rows = []
        for m, ts in traces.items():
            for seed, t in enumerate(ts):
                arch, val = t.best()
                child = trainer.children[canonical(arch)]
                rows.append([m, seed, describe(arch), f"{val:.3f}", f"{child.test_acc:.3f}", child.params])
        rows.append(["hand-designed", "", "zoo cnn (2 conv 16/32, pool, dense 64)", f"{hand.val_acc:.3f}",
                     f"{hand.test_acc:.3f}", hand.params])
        best = Table("Best architecture per searcher and seed", ["searcher", "seed", "architecture", "val acc",
                                                                 "test acc", "parameters"], rows)
        compute = Table("Compute", ["searcher", "children proposed", "distinct", "wall seconds (this run)"],
                        [[m, len(ts) * self.config.num_children, len({canonical(c) for t in ts for c in t.choices}),
                          f"{seconds[m]:.1f}"] for m, ts in traces.items()],
                        caption="Wall time includes training children first proposed by this searcher; an architecture "
                                "proposed earlier (or cached from a previous run) costs nothing. Varies with load.")
        return [best, compute]

    def figures(self, traces, baselines, trainer: Trainer, hand: Child) -> list[Figure]:
        cfg = self.config
        xs = list(range(1, cfg.num_children + 1))
        curves = []
        for m, ts in traces.items():
            ys = np.array([t.best_so_far() for t in ts])
            curves.append(figures.series(m, xs, ys.mean(0), lo=ys.min(0), hi=ys.max(0)))
        hline = [{"y": hand.val_acc, "label": "hand-designed CNN"}]
        search = Figure("best-vs-children", "Best validation accuracy vs children trained", [figures.lines(
            curves, xlabel="children trained", ylabel="best validation accuracy so far", hlines=hline)],
            caption=f"Mean over {cfg.num_seeds} seed(s); band: min to max over seeds. Same budget for every searcher.")
        random_mean = float(np.mean([r for t in traces["random"] for r in t.rewards]))
        rl = Figure("controller-reward", "The controller's reward curve", [figures.lines(
            [figures.series("reward (child's val. accuracy)", xs, t.rewards, style="points"),
             figures.series("moving-average baseline", xs, baselines[i], style="line")],
            title=f"search seed {i}", xlabel="child", ylabel="validation accuracy (reward)",
            hlines=[{"y": random_mean, "label": "mean reward of random search"}])
            for i, t in enumerate(traces["controller"])],
            caption=f"Each child's reward and the baseline b <- {cfg.baseline_decay} b + "
                    f"{1 - cfg.baseline_decay:.1f} R that REINFORCE subtracts; a learning controller's rewards climb.")
        names = list(traces) + ["hand CNN"]
        val = [float(np.mean([t.best()[1] for t in traces[m]])) for m in traces] + [hand.val_acc]
        test = [float(np.mean([trainer.children[canonical(t.best()[0])].test_acc for t in traces[m]]))
                for m in traces] + [hand.test_acc]
        lo = min(val + test)
        best = Figure("best-vs-hand", "Best found vs the hand-designed CNN", [figures.bars(
            names, [{"label": "validation", "values": val}, {"label": "test", "values": test}],
            ylabel="accuracy", ylim=(max(0.0, lo - 0.1), 1.0))],
            caption="Validation: the search's own criterion; test: held out. Mean over seeds.")
        return [search, rl, best]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        rl, rnd, hand = m["best_val_controller"], m["best_val_random"], m["hand_val"]
        finds, beats = rl >= hand - 0.02, rl >= rnd + 0.01
        tpe = f", TPE {m['best_val_tpe']:.1%}" if m.get("best_val_tpe") is not None else ""
        text = (f"Best validation accuracy after {m['children_per_method']:.0f} children per searcher: controller "
                f"{rl:.1%}, random search {rnd:.1%}{tpe}, hand-designed CNN {hand:.1%}; mean reward of the children proposed: "
                f"controller {m['mean_reward_controller']:.1%}, random {m['mean_reward_random']:.1%}; the controller's "
                f"last third minus first third of rewards: {100 * m['controller_reward_rise']:+.1f} points; "
                f"{m['children_trained']:.0f} distinct children "
                f"trained ({m['training_steps']:.0f} optimizer steps) of {m['space_size']:.0f} possible")
        if not beats:
            return Verdict("fails", f"{text}. Not shown: the controller does not beat random search by >= 1 point.")
        if not finds:
            return Verdict("inconclusive", f"{text}. Not shown: finds (more than 2 points below the hand-designed CNN).")
        return Verdict("holds", text + ".")
