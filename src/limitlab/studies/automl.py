"""AutoML: an RL controller searches architectures; does it beat random search at the same budget?

Zoph, Le. Neural architecture search with reinforcement learning. ICLR 2017, arXiv:1611.01578 (an RNN controller
samples a child, the child is trained, its accuracy is the reward; 12,800 children on CIFAR-10). Bergstra, Bengio.
Random search for hyper-parameter optimization. JMLR 2012. Bergstra et al. 2011 (TPE), via Optuna (Akiba et al.
2019). Li, Talwalkar. Random search and reproducibility for neural architecture search. UAI 2019 (random search at
equal budget is as good as the published NAS methods). Source: 002 (learning to learn: the controller / child loop).

Protocol: the search space of `limitlab.nas.space` (MLP or CNN, 1-3 layers, width 8/16/32, kernel 3/5,
relu/tanh/gelu, residual skips: 135 distinct architectures). Three searchers (`nas.search`): the LSTM controller
trained with REINFORCE and a moving-average baseline, random search, and Optuna's TPE, each with the same budget of
`num_children` children per search seed, over `num_seeds` search seeds. A child is trained briefly with
`limitlab.models.fit` (Adam, `epochs` epochs on the first `num_train` training digits); its reward is its accuracy
on the validation set. A child's initial weights are seeded by its architecture, so an architecture proposed twice
(by any searcher or seed) is trained once and scored identically (`nas.children`); every proposal still counts
against its searcher's budget. The hand-designed zoo CNN is trained by the same protocol. TPE runs when Optuna (the
`automl` extra) is installed; the rule never reads it, so without Optuna the study runs without that arm and says so.

Verdict: per search seed, the paired gain = the controller's best validation accuracy minus random search's (same seed
index, same budget), with its mean over the `num_seeds` search seeds (48: a controller run that collapses onto a poor
architecture is part of what the controller does, so the gains have heavy tails; with 12 seeds two standard errors were
1.0 to 3.0 points against the one-point bar) and two standard errors of that mean (2 std / sqrt(seeds)) as noise floor.
"beats" = the mean gain is above 0.01 (one point) by more than its floor; below 0.01 by more than that, it does not beat
random search; within, not shown. "finds" = the controller's mean best is >= the hand-designed CNN's validation accuracy
minus 0.02, beyond two standard errors of that mean. The claim holds if both hold; it fails if "beats" does not (the
controller is not better than random search at this budget); otherwise inconclusive.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.models import build
from limitlab.nas import canonical, describe, space_size
from limitlab.nas.children import Child, ChildTrainer
from limitlab.nas.search import SEARCHERS, run_searches
from limitlab.result import Figure, Metric, Metrics, MetricValues, Result, Table, Verdict, decided, fmt
from limitlab.studies._rules import values_noise
from limitlab.study import Study, register

POSITIVE = Interval(0, closed="neither")


@dataclass(frozen=True)
class AutomlConfig(Checked):
    constraints: ClassVar = {
        "methods": Each(OneOf(SEARCHERS), min_len=1, unique=True), "num_children": Interval(2),
        "num_seeds": Interval(1), "num_train": Interval(10, 1077), "epochs": Interval(1), "lr": POSITIVE,
        "controller_lr": POSITIVE, "baseline_decay": Interval(0, 1, closed="left"), "tpe_startup": Interval(1)}
    methods: tuple[str, ...] = SEARCHERS
    num_children: int = 12  # budget per searcher and seed
    num_seeds: int = 48  # search seeds: the paired gains over them give the comparison its noise floor
    num_train: int = 500  # training digits per child
    epochs: int = 5  # per child
    lr: float = 3e-3  # child learning rate (Adam)
    controller_lr: float = 0.05
    baseline_decay: float = 0.8
    tpe_startup: int = 4  # random children before TPE starts modelling

    def validate(self) -> None:
        check("controller" in self.methods and "random" in self.methods,
              f"methods={list(self.methods)}; the verdict compares 'controller' with 'random': keep both")


@register("automl", chapter="automl", sources=("002",))
class Automl(Study[AutomlConfig]):
    """Neural architecture search with an RL controller vs random search and TPE (Zoph & Le 2017). Source: 002."""

    claim = ("A controller trained with reinforcement learning on child accuracy finds good architectures "
             "without an expert, at a large compute cost, and beats random search at the same budget.")
    Config = AutomlConfig
    presets = {"tiny": {"num_children": 4, "num_seeds": 2, "num_train": 200, "epochs": 2, "tpe_startup": 2},
               "full": {"num_children": 40, "num_seeds": 48, "num_train": 1077, "epochs": 15}}

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        trainer = ChildTrainer(num_train=cfg.num_train, epochs=cfg.epochs, lr=cfg.lr, ctx=ctx)
        methods = [m for m in cfg.methods if m != "tpe" or importlib.util.find_spec("optuna")]  # TPE needs Optuna
        traces, baselines, seconds = run_searches(methods, trainer, num_seeds=cfg.num_seeds, ctx=ctx,
                                                  num_children=cfg.num_children, controller_lr=cfg.controller_lr,
                                                  baseline_decay=cfg.baseline_decay, tpe_startup=cfg.tpe_startup)
        with ctx.seeded_torch("hand-cnn"):
            hand = trainer.fit(build("cnn"), "hand-designed cnn", "hand-designed cnn")
        metrics = self.metrics(traces, trainer, hand)
        tables = self.tables(traces, trainer, hand, seconds)
        return self.result(ctx, metrics=metrics, tables=tables, figures=self.figures(traces, baselines, trainer, hand))

    def metrics(self, traces, trainer: ChildTrainer, hand: Child) -> Metrics:
        cfg, out, n = self.config, Metrics(), self.config.num_children
        for m, ts in traces.items():
            for name, values, unit, text in (
                    ("best_val", [t.best()[1] for t in ts], "fraction", f"best validation accuracy in {n} children"),
                    ("best_test", [trainer.best(t.best()[0]).test_acc for t in ts], "fraction",
                     "test accuracy of its best architecture"),
                    ("anytime", [float(np.mean(t.best_so_far())) for t in ts], "fraction",
                     "mean best-so-far over the budget"),
                    ("mean_reward", [float(np.mean(t.rewards)) for t in ts], "fraction",
                     "mean validation accuracy of the children it proposed"),
                    ("distinct", [len({canonical(c) for c in t.choices}) for t in ts], "count",
                     f"distinct architectures among its {n} children")):
                out[f"{name}_{m}"] = Metric.over_seeds(values, unit, f"{m}: {text}")
        for m in traces:  # the mean over search seeds, with two standard errors; gains paired by search seed
            out[f"best_val_{m}"].noise = values_noise(out[f"best_val_{m}"].values)
            if m != "random":
                out[f"gain_{m}"] = Metric.over_seeds([a - b for a, b in zip(out[f"best_val_{m}"].values,
                                                                             out["best_val_random"].values)],
                                                     "fraction", f"{m} minus random search, paired by search seed")
                out[f"gain_{m}"].noise = values_noise(out[f"gain_{m}"].values)
        third = max(1, cfg.num_children // 3)
        rise = [float(np.mean(t.rewards[-third:]) - np.mean(t.rewards[:third])) for t in traces["controller"]]
        out["controller_reward_rise"] = Metric.over_seeds(rise, "fraction", "controller: mean reward of its last "
                                                          "third of children minus its first third")
        out.add("hand_val", hand.val_acc, "fraction", "hand-designed zoo CNN, same training: validation accuracy")
        out.add("hand_test", hand.test_acc, "fraction", "hand-designed zoo CNN: test accuracy")
        out.add("hand_params", hand.params, "count", "hand-designed zoo CNN: parameters")
        out.add("children_per_method", cfg.num_children * cfg.num_seeds, "count",
                "children proposed per searcher (all seeds)")
        out.add("children_trained", len(trainer.children), "count",
                "distinct children actually trained (all searchers)")
        out.add("space_size", space_size(), "count", "distinct architectures in the search space")
        out.add("training_steps", sum(c.steps for c in trainer.children.values()), "steps",
                "optimizer steps spent training all distinct children")
        return out

    def tables(self, traces, trainer: ChildTrainer, hand: Child, seconds: Mapping[str, float]) -> list[Table]:
        rows = []
        for m, ts in traces.items():
            for seed, t in enumerate(ts):
                arch, val = t.best()
                child = trainer.best(arch)
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

    def figures(self, traces, baselines, trainer: ChildTrainer, hand: Child) -> list[Figure]:
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
            for i, t in enumerate(traces["controller"][:4])],
            caption=f"Each child's reward and the baseline b <- {cfg.baseline_decay} b + {1 - cfg.baseline_decay:.1f} "
                    "R that REINFORCE subtracts; a learning controller's rewards climb. The first "
                    f"{min(4, cfg.num_seeds)} of {cfg.num_seeds} search seeds.")
        gains = [figures.series(f"{m} - random", xs, (np.array([t.best_so_far() for t in traces[m]])
                                                       - np.array([t.best_so_far() for t in traces["random"]])).mean(0))
                 for m in traces if m != "random"]
        gain = Figure("gain-vs-random", "Gain over random search (best so far)", [figures.lines(
            gains, xlabel="children trained", ylabel="accuracy difference", hlines=[
                {"y": 0.01, "label": "one point (the rule's bar)"}, {"y": 0.0, "label": "tie"}])],
            caption=f"Best so far minus random search's, paired by search seed, mean over {cfg.num_seeds} seeds; "
                    "the verdict reads the last point against its noise floor (metric gain_controller).")
        return [search, gain, rl]

    def judge(self, m: MetricValues) -> Verdict:
        rl, gain, hand = m["best_val_controller"], m["gain_controller"], m["hand_val"]
        noise = {n: getattr(m.metric(n), "noise", None) for n in ("gain_controller", "best_val_controller")}
        parts = {"beats": decided(gain, 0.01, noise=noise["gain_controller"]),
                 "finds": decided(rl, None if hand is None else hand - 0.02, noise=noise["best_val_controller"])}
        tpe = (f", TPE {fmt(m['best_val_tpe'], '.1%')}" if m["best_val_tpe"] is not None else
               ", TPE not run (needs Optuna: pip install 'limitlab[automl]')" if "tpe" in self.config.methods else "")
        pts = lambda v, spec="+.1f": fmt(None if v is None else 100 * v, spec)  # noqa: E731
        text = (f"Best validation accuracy after {fmt(m['children_per_method'], '.0f')} children per searcher: "
                f"controller {fmt(rl, '.1%')}, random search {fmt(m['best_val_random'], '.1%')}{tpe}, hand-designed "
                f"CNN {fmt(hand, '.1%')}; controller minus random, paired by search seed: {pts(gain)} points "
                f"(noise floor {pts(noise['gain_controller'], '.1f')}); mean reward of the children proposed: "
                f"controller {fmt(m['mean_reward_controller'], '.1%')}, random {fmt(m['mean_reward_random'], '.1%')}; "
                f"the controller's last third minus first third of rewards: {pts(m['controller_reward_rise'])} "
                f"points; {fmt(m['children_trained'], '.0f')} distinct children trained "
                f"({fmt(m['training_steps'], '.0f')} optimizer steps) of {fmt(m['space_size'], '.0f')} possible")
        return Verdict.combine(parts, text, decisive=("beats",), missing={
            "beats": "The controller does not beat random search by one point." if parts["beats"] is False else
                     "Not shown: beats (the gain is within its noise floor of one point).",
            "finds": "Not shown: finds (not within 2 points of the hand-designed CNN beyond the noise)."})
