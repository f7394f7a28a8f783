"""Memorization: an over-parameterized network fits random labels and random inputs.

Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking
generalization. ICLR 2017, arXiv:1611.03530. Source: 002 ("Rethinking generalization", the capacity
of deep neural networks).

Protocol: an over-parameterized MLP (two hidden layers of 256 units: ~85k weights for 1,077 training
digits) is trained without any regularization (no dropout, no weight decay, no early stopping) until
its training accuracy reaches `target_train_acc` or `max_steps` steps, on digits with a fraction p of
the labels replaced by uniform random classes (p from 0 to 1: 1 = random labels), and on three input
corruptions with the true labels: shuffled pixels (one permutation for all images, train and test),
random pixels (a new permutation per image) and Gaussian inputs with the data's mean and variance.
The CNN (dropout off) is trained on the `cnn_arms` too (none by default, to stay in the time budget;
the `full` preset trains it on every arm). Every (model, arm) is repeated for `num_seeds` seeds: a new
initialization, batch order and draw of the corruption (random labels, permutations, noise). Test
accuracy is measured on the test digits with their true labels, corrupted the same way as the arm's
inputs. Steps to fit are optimizer steps until the target was reached; metrics are means over seeds.

Verdict: "fit" = every trained (model, arm, seed) reaches `target_train_acc` within `max_steps`;
"generalize" = the MLP's mean test accuracy with true labels (p = 0) is >= 0.8; "chance" = its mean
test accuracy with random labels (p = 1) is <= 0.15 (chance is 0.10); "rises" = the MLP's mean test
accuracy does not increase by more than 0.03 from one corruption level to the next. The claim holds if
every part holds; it fails if "fit" or "chance" fails (capacity does not suffice, or random labels
generalize); otherwise it is inconclusive.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from torch import nn

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.data.corrupt import corrupt_labels, gaussian_inputs, pixel_permutation, random_pixels, shuffle_pixels
from limitlab.models import History, TrainConfig, build, evaluate, fit
from limitlab.result import Figure, Metric, Result, Verdict
from limitlab.study import Study, register

PIXEL_ARMS = ("shuffled-pixels", "random-pixels", "gaussian")


def label_arm(p: float) -> str:
    """The arm name of label corruption p: "labels-0", "labels-0.2", ..., "labels-1"."""
    return f"labels-{p:g}"


@dataclass(frozen=True)
class MemorizationConfig:
    corruptions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    pixel_arms: tuple[str, ...] = PIXEL_ARMS
    cnn_arms: tuple[str, ...] = ()  # arms the CNN is also trained on
    num_seeds: int = 2
    hidden: tuple[int, ...] = (256, 256)
    num_train: int = 1077
    target_train_acc: float = 1.0  # every training example, random labels included
    max_steps: int = 4000  # the cap
    batch_size: int = 128
    lr: float = 5e-3
    cnn_lr: float = 3e-3

    def arms(self) -> tuple[str, ...]:
        return tuple(label_arm(p) for p in self.corruptions) + self.pixel_arms

    def __post_init__(self) -> None:
        check(len(self.corruptions) >= 1 and all(0 <= p <= 1 for p in self.corruptions),
              f"corruptions={self.corruptions}; expected at least one fraction in [0, 1]")
        check(list(self.corruptions) == sorted(set(self.corruptions)),
              f"corruptions={self.corruptions}; expected increasing, distinct values")
        unknown = [a for a in self.pixel_arms if a not in PIXEL_ARMS]
        check(not unknown, f"pixel_arms has {unknown}; valid: {', '.join(PIXEL_ARMS)}")
        bad = [a for a in self.cnn_arms if a not in self.arms()]
        check(not bad, f"cnn_arms has {bad}; expected some of the arms {', '.join(self.arms())}")
        check(len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden), f"hidden={self.hidden}; expected widths >= 1")
        check(10 <= self.num_train <= 1077, f"num_train={self.num_train}; expected 10..1077 (the digits train set)")
        check(0 < self.target_train_acc <= 1, f"target_train_acc={self.target_train_acc}; expected in (0, 1]")
        check(self.max_steps >= 1 and self.batch_size >= 1, "max_steps and batch_size must be >= 1")
        check(self.num_seeds >= 2, f"num_seeds={self.num_seeds}; expected >= 2 (sweeps report spread over seeds)")
        check(self.lr > 0 and self.cnn_lr > 0, "lr and cnn_lr must be > 0")


@register("memorization", chapter="generalization", sources=("002",))
class Memorization(Study[MemorizationConfig]):
    """Memorization of random labels (Zhang et al. 2017). Sources: 002."""

    claim = ("A network with enough parameters fits anything, even random labels, to 100% training accuracy; "
             "the same architecture that generalizes on true labels generalizes at chance on random ones, "
             "so capacity alone does not explain generalization.")
    Config = MemorizationConfig
    presets = {
        "tiny": {"corruptions": (0.0, 0.5, 1.0), "pixel_arms": ("random-pixels",), "cnn_arms": (),
                 "hidden": (128, 128), "num_train": 256, "max_steps": 1500, "batch_size": 128},
        "full": {"cnn_arms": tuple(label_arm(p) for p in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)) + PIXEL_ARMS,
                 "hidden": (512, 512), "lr": 3e-3, "num_seeds": 3},
    }

    def arm_data(self, arm: str, seed: int, ctx: Context) -> tuple[ArrayDataset, ArrayDataset]:
        """(training set, test set) of one arm and seed; test labels are always the true ones."""
        cfg, data = self.config, digits()
        train, test = data.train.subset(slice(0, cfg.num_train)), data.test
        xtr, ytr, xte = train.x, train.y, test.x
        rng = lambda *names: ctx.rng(*names, seed)  # noqa: E731  (each seed draws its own corruption)
        if arm.startswith("labels-"):
            ytr, _ = corrupt_labels(ytr, fraction=float(arm[7:]), num_classes=10, rng=rng("labels", arm))
        elif arm == "shuffled-pixels":
            perm = pixel_permutation(xtr, rng("shuffle"))
            xtr, xte = shuffle_pixels(xtr, perm), shuffle_pixels(xte, perm)
        elif arm == "random-pixels":
            xtr, xte = random_pixels(xtr, rng("random-pixels", "train")), random_pixels(xte, rng("random-pixels", "test"))
        else:  # gaussian: test inputs from the same distribution as the training inputs
            mean, std = float(xtr.mean()), float(xtr.std())
            xtr = gaussian_inputs(xtr, rng("gaussian", "train"))
            xte = gaussian_inputs(xte, rng("gaussian", "test"), mean=mean, std=std)
        bounds = (float(min(xtr.min(), xte.min())), float(max(xtr.max(), xte.max())))
        return (ArrayDataset(xtr, ytr, f"memorization-{arm}-train", 10, bounds),
                ArrayDataset(xte, test.y, f"memorization-{arm}-test", 10, bounds))

    def train(self, model_name: str, arm: str, seed: int, ctx: Context) -> tuple[History, float, float]:
        """Train until fitted (or the cap); (history, final train accuracy, test accuracy)."""
        cfg = self.config
        train, test = self.arm_data(arm, seed, ctx)
        epochs = -(-cfg.max_steps * cfg.batch_size // len(train))  # enough epochs for the step cap
        tc = TrainConfig(epochs=epochs, batch_size=cfg.batch_size, lr=cfg.cnn_lr if model_name == "cnn" else cfg.lr,
                         patience=None, target_train_acc=cfg.target_train_acc, max_steps=cfg.max_steps)
        # `val` is the arm's test set: it is only recorded (patience=None), for the MLP's learning curves.
        with ctx.seeded_torch("torch", model_name, arm, seed):
            model: nn.Module = build("mlp", hidden=cfg.hidden) if model_name == "mlp" else build("cnn", dropout=0.0)
            history = fit(model, train, val=test if model_name == "mlp" else None, ctx=ctx, config=tc,
                          description=f"{model_name} {arm}")
        return history, evaluate(model, train)[1], evaluate(model, test)[1]

    def jobs(self) -> list[tuple[str, str]]:
        return [("mlp", arm) for arm in self.config.arms()] + [("cnn", arm) for arm in self.config.cnn_arms]

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        todo = [(model, arm, k) for k in range(cfg.num_seeds) for model, arm in self.jobs()]
        done = {job: self.train(*job, ctx) for job in ctx.progress.track(todo, description="memorization arms")}
        runs = {job: [done[(*job, k)] for k in range(cfg.num_seeds)] for job in self.jobs()}  # job -> per seed
        metrics: dict[str, Metric | tuple] = {}
        for (model, arm), per_seed in runs.items():
            fitted = all(h.stopped == "target" for h, _, _ in per_seed)
            metrics[f"{model}_{arm}_train_acc"] = Metric.over_seeds(
                [r[1] for r in per_seed], "fraction", f"{model} training accuracy on {arm}")
            metrics[f"{model}_{arm}_test_acc"] = Metric.over_seeds(
                [r[2] for r in per_seed], "fraction", f"{model} test accuracy on {arm} (true labels)")
            metrics[f"{model}_{arm}_steps"] = Metric.over_seeds(
                [h.steps for h, _, _ in per_seed], "steps", f"optimizer steps for {model} to fit {arm}") if fitted \
                else (None, "steps", f"optimizer steps for {model} to fit {arm} (none: a seed reached the cap)")
        for model in ("mlp", "cnn"):
            pair = [runs.get((model, a)) for a in ("labels-0", "labels-1")]
            if all(p is not None and all(h.stopped == "target" for h, _, _ in p) for p in pair):
                true_steps, rand_steps = (np.mean([h.steps for h, _, _ in p]) for p in pair)
                metrics[f"{model}_slowdown"] = (float(rand_steps / true_steps), "ratio",
                                                f"{model}: steps to fit random labels / steps to fit true labels")
        return self.result(ctx, metrics=metrics, figures=self.figures(runs))

    def figures(self, runs: Mapping[tuple[str, str], list[tuple[History, float, float]]]) -> list[Figure]:
        cfg = self.config
        fitted = lambda job: all(h.stopped == "target" for h, _, _ in runs[job])  # noqa: E731

        def sweep_line(model: str, value: Callable, only_fitted: bool) -> dict:
            ps = [p for p in cfg.corruptions if (model, label_arm(p)) in runs
                  and (not only_fitted or fitted((model, label_arm(p))))]
            vals = np.array([[value(r) for r in runs[(model, label_arm(p))]] for p in ps]).reshape(len(ps), -1)
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
                    "seed hit the cap are left out of the right panel). The CNN is trained on the arms in cnn_arms only."))
        arms = [a for a in cfg.arms() if ("mlp", a) in runs]

        def group(label: str, value: Callable) -> dict:
            vals = [[value(r) for r in runs[("mlp", a)]] for a in arms]
            return {"label": label, "values": [np.mean(v) for v in vals], "err": [np.std(v, ddof=1) for v in vals]}

        bars = Figure("arms", "Every arm, MLP", [
            figures.bars(arms, [group("train accuracy", lambda r: r[1]), group("test accuracy", lambda r: r[2])],
                         title="accuracy after training", ylabel="accuracy", ylim=(0, 1.05)),
            figures.bars(arms, [group("steps", lambda r: r[0].steps)], title="optimizer steps taken", ylabel="steps"),
        ], caption=f"Mean over {cfg.num_seeds} seeds (error bar: standard deviation). labels-p: a fraction p of the "
                   "training labels replaced by random classes. Pixel arms keep the true labels: shuffled = one fixed "
                   "permutation, random = one per image, gaussian = noise inputs with the digits' mean and variance.")
        per_epoch = -(-cfg.num_train // cfg.batch_size)
        first = {a: runs[("mlp", a)][0][0] for a in arms}  # the learning curves of seed 0
        curves = lambda key: [figures.series(a, [per_epoch * (e + 1) for e in range(len(getattr(h, key)))],  # noqa: E731
                                             getattr(h, key), style="line") for a, h in first.items()]
        learning = Figure("learning-curves", "Learning curves, MLP (first seed)", [
            figures.lines(curves("train_acc"), title="training accuracy", xlabel="optimizer steps", ylabel="accuracy",
                          ylim=(0, 1.02), xscale="log"),
            figures.lines(curves("val_acc"), title="test accuracy (true labels)", xlabel="optimizer steps",
                          ylabel="accuracy", ylim=(0, 1.02), xscale="log"),
        ], caption="Accuracy after every epoch; training stops when the target is reached.")
        return [sweep, bars, learning]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config
        jobs = self.jobs()
        unfit = [f"{mo} {a}" for mo, a in jobs if m[f"{mo}_{a}_steps"] is None]
        test = [m[f"mlp_{label_arm(p)}_test_acc"] for p in cfg.corruptions]
        parts = {"fit": not unfit,
                 "rises": all(b <= a + 0.03 for a, b in zip(test, test[1:]))}
        text = (f"{len(jobs) - len(unfit)} of {len(jobs)} (model, arm) pairs reached {cfg.target_train_acc:.1%} "
                f"training accuracy on all {cfg.num_seeds} seeds")
        if unfit:
            text += f" (not: {', '.join(unfit)})"
        text += f"; MLP test accuracy {' -> '.join(f'{t:.1%}' for t in test)} as label corruption goes " \
                f"{cfg.corruptions[0]:g} -> {cfg.corruptions[-1]:g}"
        if 0.0 in cfg.corruptions:
            parts["generalize"] = m["mlp_labels-0_test_acc"] >= 0.8
        if 1.0 in cfg.corruptions:
            parts["chance"] = m["mlp_labels-1_test_acc"] <= 0.15
            if m["mlp_labels-1_steps"] is not None:
                text += f"; the MLP fitted random labels in {m['mlp_labels-1_steps']:.0f} steps (mean)"
            if m.get("mlp_slowdown") is not None:
                text += f" ({m['mlp_slowdown']:.1f}x the {m['mlp_labels-0_steps']:.0f} steps for true labels)"
        if m.get("cnn_slowdown") is not None:
            text += (f"; CNN: {m['cnn_labels-1_steps']:.0f} vs {m['cnn_labels-0_steps']:.0f} steps, test accuracy "
                     f"{m['cnn_labels-1_test_acc']:.1%} vs {m['cnn_labels-0_test_acc']:.1%}")
        failed = [name for name, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if {"fit", "chance"} & set(failed) else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
