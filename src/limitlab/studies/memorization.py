"""Memorization: an over-parameterized network fits random labels and random inputs.

Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking generalization. ICLR 2017,
arXiv:1611.03530. Source: 002 ("Rethinking generalization", the capacity of deep neural networks).

Protocol: an over-parameterized MLP (two hidden layers of 256 units: ~85k weights for 1,077 training digits) is trained
without any regularization (no dropout, weight decay or early stopping) until its training accuracy reaches
`target_train_acc` or `max_steps` steps, on digits with a fraction p of the labels replaced by uniform random classes (p
= 1: random labels), and on three input corruptions with the true labels (`limitlab.data.corrupted_arms`): shuffled
pixels (one permutation for all images, train and test), random pixels (one per image) and Gaussian inputs with the
data's mean and variance. The CNN (dropout off) is trained on `cnn_arms` too (none by default, for time; all in `full`).
Every (model, arm) is repeated for `num_seeds` seeds (a new initialization, batch order and corruption draw). Test
accuracy: on the 720 held-out digits (validation and test: no run stops early, so neither is seen in training) with
their true labels, corrupted as the arm's inputs. Steps to fit: optimizer steps until the target was reached.

Verdict: "fit" = every trained (model, arm, seed) reaches `target_train_acc` within `max_steps`; "generalize" = the
MLP's mean test accuracy with true labels (p = 0) is >= 0.8; "chance" = its mean test accuracy with random labels (p =
1) is <= 0.15 (chance is 0.10); both by more than the larger of their noise floor (two binomial standard errors on the
720 held-out digits) and their spread over seeds; "rises" = the MLP's mean test accuracy does not increase by more than
0.03 from one corruption level to the next. The claim holds if every part holds; it fails if "fit" or "chance" fails;
otherwise it is inconclusive.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import numpy as np
from torch import nn

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.data.corrupted_arms import PIXEL_ARMS, corrupted_arm, label_arm
from limitlab.data.digits import digits_heldout
from limitlab.models import History, TrainConfig, build, evaluate, fit
from limitlab.result import Figure, Metric, Metrics, MetricValues, Result, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import binomial_noise, decided, margin
from limitlab.study import Study, register


@dataclass(frozen=True)
class MemorizationConfig(Checked):
    constraints: ClassVar = {
        "corruptions": Each(Interval(0, 1), min_len=1, unique=True), "pixel_arms": Each(OneOf(PIXEL_ARMS), unique=True),
        "hidden": Each(Interval(1), min_len=1), "num_train": Interval(10, 1077), "num_seeds": Interval(2),
        "target_train_acc": Interval(0, 1, closed="right"), "max_steps": Interval(1), "batch_size": Interval(1),
        "lr": Interval(0, closed="neither"), "cnn_lr": Interval(0, closed="neither")}
    corruptions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    pixel_arms: tuple[str, ...] = PIXEL_ARMS
    cnn_arms: tuple[str, ...] = ()  # arms the CNN is also trained on
    num_seeds: int = 2  # (model, arm) repeats within one run: spread over initializations and corruption draws
    hidden: tuple[int, ...] = (256, 256)
    num_train: int = 1077
    target_train_acc: float = 1.0  # every training example, random labels included
    max_steps: int = 4000  # the cap
    batch_size: int = 128
    lr: float = 5e-3
    cnn_lr: float = 3e-3

    def arms(self) -> tuple[str, ...]:
        return tuple(label_arm(p) for p in self.corruptions) + self.pixel_arms

    def validate(self) -> None:
        check(list(self.corruptions) == sorted(self.corruptions),
              f"corruptions={list(self.corruptions)}; expected increasing, distinct values")
        bad = [a for a in self.cnn_arms if a not in self.arms()]
        check(not bad, f"cnn_arms has {bad}; expected some of the arms {', '.join(self.arms())}")


def fitted(per_seed: list[tuple[History, float, float]]) -> bool:
    """Whether every seed reached the training-accuracy target (not the step cap)."""
    return all(h.stopped == "target" for h, _, _ in per_seed)


@register("memorization", chapter="generalization", sources=("002",))
class Memorization(Study[MemorizationConfig]):
    """Memorization of random labels (Zhang et al. 2017). Sources: 002."""

    claim = ("A network with enough parameters fits anything, even random labels, to 100% training accuracy; "
             "the same architecture that generalizes on true labels generalizes at chance on random ones, "
             "so capacity alone does not explain generalization.")
    Config = MemorizationConfig
    presets = {"tiny": {"corruptions": (0.0, 0.5, 1.0), "pixel_arms": ("random-pixels",), "cnn_arms": (),
                        "hidden": (128, 128), "num_train": 256, "max_steps": 1500, "batch_size": 128},
               "full": {"cnn_arms": tuple(label_arm(p) for p in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)) + PIXEL_ARMS,
                        "hidden": (512, 512), "lr": 3e-3, "num_seeds": 3}}

    def arm_data(self, arm: str, seed: int, ctx: Context) -> tuple[ArrayDataset, ArrayDataset]:
        """(training set, test set) of one arm and seed; test labels are always the true ones."""
        return corrupted_arm(arm, digits().train.subset(slice(0, self.config.num_train)), digits_heldout(),
                             lambda *names: ctx.rng(*names, seed))  # each seed draws its own corruption

    def train(self, model_name: str, arm: str, seed: int, ctx: Context) -> tuple[History, float, float]:
        """Train until fitted or the step cap: (history, train and test accuracy); `val` only records the curves."""
        cfg, (train, test) = self.config, self.arm_data(arm, seed, ctx)
        tc = TrainConfig(epochs=-(-cfg.max_steps * cfg.batch_size // len(train)), batch_size=cfg.batch_size,
                         lr=cfg.cnn_lr if model_name == "cnn" else cfg.lr, patience=None,
                         target_train_acc=cfg.target_train_acc, max_steps=cfg.max_steps)
        with ctx.seeded_torch("init", model_name, arm, seed):
            model: nn.Module = build("mlp", hidden=cfg.hidden) if model_name == "mlp" else build("cnn", dropout=0.0)
        history = fit(model, train, val=test if model_name == "mlp" else None, ctx=ctx, config=tc,
                      description=f"{model_name} {arm}")
        return history, evaluate(model, train)[1], evaluate(model, test)[1]

    def jobs(self) -> list[tuple[str, str]]:
        return [("mlp", arm) for arm in self.config.arms()] + [("cnn", arm) for arm in self.config.cnn_arms]

    def run(self, ctx: Context) -> Result:
        cfg, m = self.config, Metrics()
        todo = [(model, arm, k) for k in range(cfg.num_seeds) for model, arm in self.jobs()]
        done = {job: self.train(*job, ctx) for job in ctx.progress.track(todo, description="memorization arms")}
        runs = {job: [done[(*job, k)] for k in range(cfg.num_seeds)] for job in self.jobs()}  # job -> per seed
        for (model, arm), per_seed in runs.items():
            for q, accs, what in (("train_acc", [r[1] for r in per_seed], "training accuracy"),
                                  ("test_acc", [r[2] for r in per_seed], "test accuracy (true labels)")):
                m[f"{model}_{arm}_{q}"] = Metric.over_seeds(accs, "fraction", f"{model} {what} on {arm}")
            acc = m[f"{model}_{arm}_test_acc"]
            acc.noise = binomial_noise(acc.value, len(digits_heldout()))
            what = f"optimizer steps for {model} to fit {arm}"
            m[f"{model}_{arm}_steps"] = Metric.over_seeds([h.steps for h, _, _ in per_seed], "steps", what) \
                if fitted(per_seed) else Metric(None, "steps", f"{what} (none: a seed reached the cap)")
        for model in ("mlp", "cnn"):
            if all(runs.get((model, a)) is not None and fitted(runs[(model, a)]) for a in ("labels-0", "labels-1")):
                m.add(f"{model}_slowdown", m[f"{model}_labels-1_steps"].value / m[f"{model}_labels-0_steps"].value,
                      "ratio", f"{model}: steps to fit random labels / steps to fit true labels")
        return self.result(ctx, metrics=m, figures=self.figures(runs))

    def figures(self, runs: Mapping[tuple[str, str], list[tuple[History, float, float]]]) -> list[Figure]:
        cfg = self.config
        values = lambda model, arms, value: np.array([[value(r) for r in runs[(model, a)]] for a in arms]  # noqa: E731
                                                     ).reshape(len(arms), -1)  # arms x seeds

        def sweep_line(model: str, value: Callable, only_fitted: bool) -> dict:
            ps = [p for p in cfg.corruptions if (model, label_arm(p)) in runs
                  and (not only_fitted or fitted(runs[(model, label_arm(p))]))]
            vals = values(model, [label_arm(p) for p in ps], value)
            return figures.series(model, ps, vals.mean(1), lo=vals.min(1), hi=vals.max(1),
                                  style="line+points" if model == "mlp" else "points")

        models = [m for m in ("mlp", "cnn") if any((m, label_arm(p)) in runs for p in cfg.corruptions)]
        sweep = Figure("corruption", "Test error and time to fit vs label corruption", [
            figures.lines([sweep_line(m, lambda r: 1 - r[2], False) for m in models],
                          title="test error (true test labels)", xlabel="fraction of labels randomized",
                          ylabel="test error", ylim=(0, 1), hlines=[{"y": 0.9, "label": "chance (0.9)"}]),
            figures.lines([sweep_line(m, lambda r: r[0].steps, True) for m in models],
                          title="steps to reach the training-accuracy target", xlabel="fraction of labels randomized",
                          ylabel="optimizer steps"),
        ], caption=(f"Mean over {cfg.num_seeds} seeds (band: min to max) of networks trained without regularization "
                    f"until training accuracy >= {cfg.target_train_acc:.1%} (cap {cfg.max_steps} steps; arms where a "
                    "seed hit the cap are left out of the right panel). The CNN is trained on the arms in cnn_arms "
                    "only."))
        arms = [a for a in cfg.arms() if ("mlp", a) in runs]
        group = lambda label, value: {"label": label, "values": list(values("mlp", arms, value).mean(1)),  # noqa: E731
                                      "err": list(values("mlp", arms, value).std(1, ddof=1))}
        bars = Figure("arms", "Every arm, MLP", [
            figures.bars(arms, [group("train accuracy", lambda r: r[1]), group("test accuracy", lambda r: r[2])],
                         title="accuracy after training", ylabel="accuracy", ylim=(0, 1.05)),
            figures.bars(arms, [group("steps", lambda r: r[0].steps)], title="optimizer steps taken", ylabel="steps"),
        ], caption=f"Mean over {cfg.num_seeds} seeds (error bar: standard deviation). labels-p: a fraction p of the "
                   "training labels replaced by random classes. Pixel arms keep the true labels: shuffled = one fixed "
                   "permutation, random = one per image, gaussian = noise inputs with the digits' mean and variance.")
        per_epoch, first = -(-cfg.num_train // cfg.batch_size), {a: runs[("mlp", a)][0][0] for a in arms}  # seed 0
        curves = lambda key: [figures.series(a, [per_epoch * (e + 1) for e in range(len(getattr(h, key)))],  # noqa: E731
                                             getattr(h, key), style="line") for a, h in first.items()]
        learning = Figure("learning-curves", "Learning curves, MLP (first seed)", [
            figures.lines(curves("train_acc"), title="training accuracy", xlabel="optimizer steps", ylabel="accuracy",
                          ylim=(0, 1.02), xscale="log"),
            figures.lines(curves("val_acc"), title="test accuracy (true labels)", xlabel="optimizer steps",
                          ylabel="accuracy", ylim=(0, 1.02), xscale="log"),
        ], caption="Accuracy after every epoch; training stops when the target is reached.")
        return [sweep, bars, learning]

    def judge(self, m: MetricValues) -> Verdict:
        cfg, jobs = self.config, self.jobs()
        measured = [(f"{mo} {a}", m[f"{mo}_{a}_steps"]) for mo, a in jobs if m[f"{mo}_{a}_train_acc"] is not None]
        unfit = [name for name, steps in measured if steps is None]  # trained, but a seed reached the cap
        test = [m[f"mlp_{label_arm(p)}_test_acc"] for p in cfg.corruptions]
        parts = {"fit": False if unfit else (True if len(measured) == len(jobs) else None),
                 "rises": every([at_most(b, None if a is None else a + 0.03) for a, b in pairwise(test)])}
        text = (f"{len(jobs) - len(unfit)} of {len(jobs)} (model, arm) pairs reached {cfg.target_train_acc:.1%} "
                f"training accuracy on all {cfg.num_seeds} seeds" + (f" (not: {', '.join(unfit)})" if unfit else "")
                + f"; MLP test accuracy {' -> '.join(fmt(t, '.1%') for t in test)} as label corruption goes "
                  f"{cfg.corruptions[0]:g} -> {cfg.corruptions[-1]:g}")
        if 0.0 in cfg.corruptions:
            parts["generalize"] = at_least(m["mlp_labels-0_test_acc"], 0.8, noise=margin(m, "mlp_labels-0_test_acc"))
        if 1.0 in cfg.corruptions:
            parts["chance"] = decided(m["mlp_labels-1_test_acc"], 0.15, noise=margin(m, "mlp_labels-1_test_acc"),
                                      above=False)
            if m["mlp_slowdown"] is not None:  # both arms fitted on every seed
                text += (f"; the MLP fitted random labels in {m['mlp_labels-1_steps']:.0f} steps (mean) ("
                         f"{m['mlp_slowdown']:.1f}x the {fmt(m['mlp_labels-0_steps'], '.0f')} steps for true labels)")
        if m["cnn_slowdown"] is not None:
            text += (f"; CNN: {fmt(m['cnn_labels-1_steps'], '.0f')} vs {fmt(m['cnn_labels-0_steps'], '.0f')} steps, "
                     f"test accuracy {fmt(m['cnn_labels-1_test_acc'], '.1%')} vs "
                     f"{fmt(m['cnn_labels-0_test_acc'], '.1%')}")
        return Verdict.combine(parts, text, decisive=("fit", "chance"))
