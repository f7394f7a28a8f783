"""Algorithmic bias: an under-represented group gets a worse model while overall accuracy looks fine.

Source: 002 ("Can be subject to algorithmic bias"). Buolamwini, Gebru. Gender shades. FAT* 2018
(per-group accuracy gaps hidden by overall accuracy). Reweighting / oversampling as remedies:
Kamiran, Calders. Data preprocessing techniques for classification without discrimination. KAIS 2012.

Protocol: two populations of the same task: group A = the digits as they are, group B = the digits
in a second style made by one fixed transformation (`style`: rotated by 90 degrees with the shared
transformation library, or contrast-inverted 1 - x). For each seed and each training mix f (the
share of group A, from 0.5 to 0.98), the 1,077 training digits are split at random into f of them
kept in style A and the rest turned into style B (no digit in both). A model is trained for a fixed
number of steps on each mix ("plain"), with each example weighted by N / (2 n_group) so both groups
weigh the same ("reweight"), and with the minority repeated until both groups have the same count
("oversample"; same number of steps). Test: all 360 test digits in each style. Overall accuracy is
measured on a test population mixed like the training set (f A + (1 - f) B).

Verdict: with means over seeds, the balanced mix = the first of `mixes` and the skewed mix = the last: "gap" = the
plain model's gap (accuracy on A minus on B) grows from the balanced to the skewed mix by >= 0.05; "hidden" = overall
accuracy at the skewed mix is >= the overall accuracy at the balanced mix - 0.02; "narrows" = reweighting makes the
skewed-mix gap smaller than the plain model's (the claim's "narrows" names no amount: any reduction beyond the
noise); "not-closed" = the reweighted gap stays above zero ("rarely closes it"). Each comparison must clear its
threshold by more than the larger of its noise floor (two standard errors of the per-digit paired difference over the
360 test digits, which are the same digits in both styles, averaged over seeds) and its spread over seeds. The claim
holds if every part holds; it fails if "gap" fails; otherwise it is inconclusive. Oversampling is reported beside.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import torch

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.data.groups import STYLES, group_weights, oversample_index, second_style
from limitlab.models import TrainConfig, build, correct, fit
from limitlab.result import Figure, Metric, Metrics, MetricValues, Result, Verdict, fmt
from limitlab.studies._rules import decided, margin, mean_noise
from limitlab.study import Study, register

ARMS = ("plain", "reweight", "oversample")


@dataclass(frozen=True)
class BiasConfig(Checked):
    constraints: ClassVar = {"mixes": Each(Interval(0.5, 1, closed="left"), min_len=2, unique=True),
                             "style": OneOf(STYLES), "model": OneOf(("mlp", "cnn")), "num_seeds": Interval(2),
                             "steps": Interval(1), "batch_size": Interval(1), "lr": Interval(0, closed="neither")}
    mixes: tuple[float, ...] = (0.5, 0.8, 0.95, 0.98)  # shares of group A in training; the first is the balanced mix
    style: Literal["rotate-90", "invert"] = "rotate-90"
    model: Literal["mlp", "cnn"] = "mlp"
    num_seeds: int = 3  # draws of the groups (and initializations) within one run
    steps: int = 300
    batch_size: int = 64
    lr: float = 2e-3

    def validate(self) -> None:
        check(list(self.mixes) == sorted(self.mixes),
              f"mixes={list(self.mixes)}; expected increasing shares of group A")


@register("bias", chapter="generalization", sources=("002",))
class Bias(Study[BiasConfig]):
    """Per-group accuracy under an imbalanced training mix, with reweighting and oversampling. Sources: 002."""

    claim = ("A model trained on data in which a group is under-represented is less accurate for that group "
             "while its overall accuracy looks good; reweighting narrows the gap and rarely closes it.")
    Config = BiasConfig
    presets = {
        "tiny": {"mixes": (0.5, 0.95), "num_seeds": 2, "steps": 120},
        "full": {"mixes": (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99), "num_seeds": 8, "model": "cnn", "steps": 800},
    }

    def train_arm(self, mix: float, arm: str, seed: int, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
        """(correct on group A, correct on group B): 0/1 per test digit (the same digits in both styles)."""
        cfg, data = self.config, digits()
        n = len(data.train)
        in_b = np.zeros(n, dtype=bool)
        in_b[ctx.rng("groups", seed, mix).choice(n, size=round((1 - mix) * n), replace=False)] = True
        mask = torch.from_numpy(in_b)
        x = torch.where(mask.view(-1, 1, 1, 1), second_style(data.train.x, cfg.style), data.train.x)
        index, weight = np.arange(n), None
        if arm == "reweight":
            weight = group_weights(in_b)
        elif arm == "oversample":
            index = oversample_index(in_b, ctx.rng("oversample", seed, mix))
        train = ArrayDataset(x[index], data.train.y[index], f"bias-{cfg.style}-{mix}-{arm}", 10)
        epochs = -(-cfg.steps * cfg.batch_size // len(train))
        with ctx.seeded_torch("init", cfg.model, arm, mix, seed):
            model = build(cfg.model, **({"dropout": 0.0} if cfg.model == "cnn" else {}))
        fit(model, train, ctx=ctx, sample_weight=weight, description=f"{arm} {mix:.0%}",
            config=TrainConfig(epochs=epochs, batch_size=cfg.batch_size, lr=cfg.lr, patience=None,
                               max_steps=cfg.steps, eval_train=False))
        test = data.test
        a, b = (correct(model, x, test.y) for x in (test.x, second_style(test.x, cfg.style)))
        return a, b

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        # Remedies at a 50/50 mix would train the plain model again: the plain result is reused there.
        jobs = [(mix, arm, k) for k in range(cfg.num_seeds) for mix in cfg.mixes for arm in ARMS
                if arm == "plain" or mix != 0.5]
        done = {job: self.train_arm(*job, ctx) for job in ctx.progress.track(jobs, description="bias mixes")}
        # per[(arm, quantity)]: seeds x mixes x test digits (quantity per digit: correct on A, on B, their gap...)
        per: dict[tuple[str, str], torch.Tensor] = {}
        f = torch.tensor(cfg.mixes, dtype=torch.float64).view(1, -1, 1)
        for arm in ARMS:
            a, b = (torch.stack([torch.stack([done[(mix, arm if (mix, arm, k) in done else "plain", k)][g]
                                              for mix in cfg.mixes]) for k in range(cfg.num_seeds)]) for g in (0, 1))
            per[(arm, "acc_a")], per[(arm, "acc_b")], per[(arm, "gap")] = a, b, a - b
            per[(arm, "overall")] = f * a + (1 - f) * b
        table = {key: v.mean(2).numpy() for key, v in per.items()}  # seeds x mixes
        metrics = Metrics()
        words = {"acc_a": "accuracy on group A", "acc_b": "accuracy on group B (the minority)",
                 "gap": "accuracy on A minus on B", "overall": "accuracy on a test set mixed like the training set"}
        for (arm, q), values in table.items():
            for j, mix in enumerate(cfg.mixes):
                metrics[f"{arm}_{q}_{mix:g}"] = Metric.over_seeds(values[:, j], "fraction",
                                                                  f"{arm}: {words[q]} at {mix:.0%} A")
        for arm in ARMS:  # the noise floor of each skewed-mix gap (A and B are the same digits: paired)
            metrics[f"{arm}_gap_{cfg.mixes[-1]:g}"].noise = mean_noise(per[(arm, "gap")][:, -1].mean(0))
        # The rule's comparisons, per digit and seed (the differences the noise floors are computed on):
        plain_gap, plain_overall = per[("plain", "gap")], per[("plain", "overall")]
        for name, diff, what in (
                ("gap_growth", plain_gap[:, -1] - plain_gap[:, 0], "plain gap, skewed minus balanced mix"),
                ("overall_change", plain_overall[:, -1] - plain_overall[:, 0], "plain overall accuracy, skewed minus "
                 "balanced mix"),
                ("reweight_reduction", plain_gap[:, -1] - per[("reweight", "gap")][:, -1],
                 "plain minus reweighted gap at the skewed mix")):
            metrics[name] = Metric.over_seeds(diff.mean(1).tolist(), "fraction", what)
            metrics[name].noise = mean_noise(diff.mean(0))
        return self.result(ctx, metrics=metrics, figures=self.figures(table, metrics))

    def figures(self, table: Mapping[tuple[str, str], np.ndarray], m: Metrics) -> list[Figure]:
        cfg, hi = self.config, f"{self.config.mixes[-1]:g}"
        x = [100 * f for f in cfg.mixes]

        def line(arm: str, q: str, label: str) -> dict:
            v = table[(arm, q)]
            return figures.series(label, x, v.mean(0), lo=v.min(0), hi=v.max(0))

        groups = Figure("per-group", f"Per-group accuracy vs training mix ({cfg.model}, group B = {cfg.style})", [
            figures.lines([line("plain", "acc_a", "group A"), line("plain", "acc_b", "group B"),
                           line("plain", "overall", "overall (test mixed like training)")],
                          title="plain training", xlabel="share of group A in training (%)", ylabel="test accuracy",
                          ylim=(0, 1.02)),
            figures.lines([line(arm, "gap", arm) for arm in ARMS], title="gap (A minus B) with each remedy",
                          xlabel="share of group A in training (%)", ylabel="accuracy gap",
                          hlines=[{"y": 0.0, "label": "no gap"}]),
            figures.lines([line(arm, "acc_b", arm) for arm in ARMS], title="minority accuracy with each remedy",
                          xlabel="share of group A in training (%)", ylabel="accuracy on group B", ylim=(0, 1.02)),
            figures.bars(list(ARMS), [{"label": f"gap at {float(hi):.0%} A", "values": [
                m[f"{arm}_gap_{hi}"].value for arm in ARMS], "err": [m[f"{arm}_gap_{hi}"].noise for arm in ARMS]}],
                title="skewed-mix gap (error bar: noise floor)", ylabel="accuracy on A minus on B"),
        ], caption=(f"Mean over {cfg.num_seeds} seeds (band: min to max). At a 50/50 mix the remedies change nothing, "
                    "so they share the plain model there. Error bars: each gap's noise floor (two standard errors over "
                    "the test digits); the narrowing is judged on the paired plain-minus-reweighted difference, whose "
                    "floor is smaller."))
        return [groups]

    def judge(self, m: MetricValues) -> Verdict:
        lo, hi = f"{self.config.mixes[0]:g}", f"{self.config.mixes[-1]:g}"
        gap, rw, gap_lo = m[f"plain_gap_{hi}"], m[f"reweight_gap_{hi}"], m[f"plain_gap_{lo}"]
        rule = lambda name, threshold: decided(m[name], threshold, noise=margin(m, name))  # noqa: E731
        parts = {"gap": rule("gap_growth", 0.05), "hidden": rule("overall_change", -0.02),
                 "narrows": rule("reweight_reduction", 0.0), "not-closed": rule(f"reweight_gap_{hi}", 0.0)}
        text = (f"Trained {float(hi):.0%} A / {1 - float(hi):.0%} B, the model scores "
                f"{fmt(m[f'plain_acc_a_{hi}'], '.1%')} on A and {fmt(m[f'plain_acc_b_{hi}'], '.1%')} on B (gap "
                f"{fmt(gap, '.1%')}, vs {fmt(gap_lo, '.1%')} at {float(lo):.0%} A) while overall accuracy is "
                f"{fmt(m[f'plain_overall_{hi}'], '.1%')} (balanced: {fmt(m[f'plain_overall_{lo}'], '.1%')}); "
                f"reweighting: gap {fmt(rw, '.1%')} ({fmt(m['reweight_reduction'], '+.1%')} narrower; noise floor "
                f"{fmt(margin(m, 'reweight_reduction'), '.1%')}), oversampling: gap "
                f"{fmt(m[f'oversample_gap_{hi}'], '.1%')}")
        return Verdict.combine(parts, text, decisive=("gap",))
