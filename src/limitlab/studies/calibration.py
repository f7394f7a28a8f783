"""Calibration: predicted probabilities are not calibrated by default; temperature scaling fixes them.

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599
(ECE with 15 equal-width bins on the top label; one temperature fitted on validation NLL). Source: 001
("sometimes the probabilities make sense, in which case we call them calibrated").

Protocol: MLPs of growing width (two hidden layers), trained without regularization or early stopping;
their weights are read at several training lengths (snapshots of one run). For each (width, length):
test accuracy, ECE, MCE, NLL and Brier score, and the temperature T fitted on the validation split
(T > 1: over-confident; T < 1: under-confident), with the test metrics after scaling. The zoo CNN
(dropout, early stopping) is measured the same way as the everyday model. MC dropout (`mc_samples`
passes) and a deep ensemble (`num_members` zoo CNNs from different initializations, the uncertainty
study's members) are measured on the test set by the same ECE / MCE / NLL / Brier, from their averaged
probabilities, beside a single member in eval mode; they are reported, not part of the verdict.

Verdict: take the widest MLP at the longest training (the model "trained to low loss"). "over" = its
fitted T > 1.1; "grows" = its fitted T at the last snapshot exceeds that at the first (over-confidence
is signed: ECE is not, so an under-confident early model can have a larger ECE); "restores" =
temperature scaling at least halves its test ECE and leaves its test accuracy exactly unchanged. The
claim holds if all three hold, fails if the fitted T <= 1 for every width at the longest training (no
over-confidence at all), and is inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from limitlab import calibration as cal
from limitlab import figures, uncertainty
from limitlab.calibration.bootstrap import ece_bootstrap_se
from limitlab.calibration.summary import before_after_temperature, calibration_scores
from limitlab.config import Checked, Each, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.ensemble import train_members
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, fmt
from limitlab.study import Study, register


@dataclass(frozen=True)
class CalibrationConfig(Checked):
    constraints: ClassVar = {
        "widths": Each(Interval(1), min_len=1), "checkpoints": Each(Interval(1), min_len=2, unique=True),
        "num_bootstrap": Interval(2), "bins": Interval(1), "lr": Interval(0, closed="neither"),
        "batch_size": Interval(1), "cnn_epochs": Interval(1), "num_members": Interval(2), "member_epochs": Interval(1),
        "mc_samples": Interval(2)}
    widths: tuple[int, ...] = (32, 128, 512)
    checkpoints: tuple[int, ...] = (1, 3, 10, 30, 80)  # epochs at which the weights are read
    num_bootstrap: int = 200  # resamples of the test set for ECE's standard error
    bins: int = 15
    lr: float = 1e-3
    batch_size: int = 64
    cnn_epochs: int = 40
    num_members: int = 5  # deep ensemble (MC dropout runs on member 0)
    member_epochs: int = 10
    mc_samples: int = 30

    def validate(self) -> None:
        check(list(self.checkpoints) == sorted(self.checkpoints),
              f"checkpoints={list(self.checkpoints)}; expected increasing epoch counts")


@register("calibration", chapter="uncertainty", sources=("001",))
class Calibration(Study[CalibrationConfig]):
    """Calibration and temperature scaling (Guo et al. 2017). Source: 001."""

    claim = ("Predicted probabilities are not calibrated by default: networks trained to low loss become "
             "over-confident, and temperature scaling restores calibration without changing accuracy.")
    Config = CalibrationConfig
    presets = {
        "tiny": {"widths": (16, 128), "checkpoints": (1, 4), "cnn_epochs": 3, "num_members": 2, "member_epochs": 2,
                 "mc_samples": 8},
        "full": {"widths": (16, 64, 256, 1024, 2048), "num_bootstrap": 1000,
                 "checkpoints": (1, 2, 5, 10, 20, 50, 100, 200), "cnn_epochs": 80},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        grid: dict[tuple[int, int], dict[str, float]] = {}
        logits: dict[str, tuple[Tensor, Tensor]] = {}  # the reliability diagrams' (validation, test) logits
        last = cfg.checkpoints[-1]
        for width in ctx.progress.track(cfg.widths, description="widths"):
            with ctx.seeded_torch("init", "mlp", width):  # each width its own stream
                model = build("mlp", hidden=(width, width))
            history = fit(model, data.train, ctx=ctx, snapshot_epochs=cfg.checkpoints, description=f"width {width}",
                          config=TrainConfig(epochs=last, lr=cfg.lr, batch_size=cfg.batch_size, patience=None))
            for epoch in cfg.checkpoints:
                model.load_state_dict(history.snapshots[epoch])
                val, test = predict_logits(model, data.val.x), predict_logits(model, data.test.x)
                grid[width, epoch] = before_after_temperature(val, data.val.y, test, data.test.y, bins=cfg.bins)
                grid[width, epoch]["train_loss"] = history.train_loss[epoch - 1]
            logits[f"MLP {width}x2, {last} epochs"] = (val, test)
        ece_se = ece_bootstrap_se(torch.softmax(test.double(), 1), data.test.y, bins=cfg.bins, num=cfg.num_bootstrap,
                                  generator=ctx.generator("bootstrap"))
        cnn = digits_cnn(ctx, epochs=cfg.cnn_epochs)  # the shared reference CNN (cached across studies)
        val, test = logits["CNN (dropout, early stop)"] = (predict_logits(cnn, data.val.x),
                                                           predict_logits(cnn, data.test.x))
        m = self.metrics(grid, before_after_temperature(val, data.val.y, test, data.test.y, bins=cfg.bins), ece_se)
        tables = [self.table(grid), self.bayes_arm(ctx, m)]
        return self.result(ctx, metrics=m, tables=tables, figures=self.figures(grid, logits))

    def bayes_arm(self, ctx: Context, m: Metrics) -> Table:
        """Test ECE / MCE / NLL / Brier of one CNN, its MC-dropout average, and the ensemble average."""
        cfg, data = self.config, digits()
        models = train_members(ctx, num_members=cfg.num_members, epochs=cfg.member_epochs, dropout=0.25)
        x, y = data.test.x, data.test.y
        probs = {"member": uncertainty.ensemble(models[:1], x)[0],
                 "mc": uncertainty.mc_dropout(models[0], x, samples=cfg.mc_samples,
                                              seed=ctx.derive_seed("calibration-mc")).mean(0),
                 "ens": uncertainty.ensemble(models, x).mean(0)}
        names = {"member": "one CNN (member 0, eval mode)", "mc": f"MC dropout ({cfg.mc_samples} passes)",
                 "ens": f"deep ensemble ({cfg.num_members} CNNs)"}
        rows = []
        for key, p in probs.items():
            values = calibration_scores(p.double(), y, bins=cfg.bins)
            for k in ("acc", "ece", "nll", "brier"):
                m.add(f"{key}_{k}", values[k], "", f"{names[key]}: test {k}")
            rows.append([names[key], *[round(values[k], 4) for k in ("acc", "ece", "mce", "nll", "brier")]])
        return Table("MC dropout and deep ensemble", ["predictor", "accuracy", "ECE", "MCE", "NLL", "Brier"], rows,
                     caption=f"Averaged probabilities on the test set, no temperature; CNNs trained "
                             f"{cfg.member_epochs} epochs with early stopping (the uncertainty study's ensemble).")

    def metrics(self, grid: dict, cnn_m: dict[str, float], ece_se: float) -> Metrics:
        cfg, m = self.config, Metrics()
        wide, first, last = cfg.widths[-1], cfg.checkpoints[0], cfg.checkpoints[-1]
        top = grid[wide, last]
        m.add("ece_first", grid[wide, first]["ece"], "fraction", f"test ECE, width {wide}, after {first} epochs")
        m.add("ece", top["ece"], "fraction", f"test ECE, width {wide}, after {last} epochs")
        m.add("ece_ts", top["ece_ts"], "fraction", "the same after temperature scaling")
        m.add("ece_se", ece_se, "fraction", "bootstrap standard error of that ECE (test-set sampling noise)")
        m.add("temperature_first", grid[wide, first]["temperature"], "", f"fitted temperature after {first} epochs")
        m.add("temperature", top["temperature"], "", "temperature fitted on validation NLL (> 1: over-confident)")
        for key, unit, what in (("nll", "nats", "test NLL"), ("acc", "fraction", "test accuracy"),
                                ("brier", "", "test Brier score")):
            m.add(key, top[key], unit, f"{what} before scaling")
            m.add(f"{key}_ts", top[f"{key}_ts"], unit, f"{what} after scaling")
        m.add("max_temperature_last", max(grid[w, last]["temperature"] for w in cfg.widths), "", "largest fitted T "
              f"over widths after {last} epochs")
        for k in ("ece", "ece_ts", "temperature", "acc", "nll"):
            m.add(f"cnn_{k}", cnn_m[k], "", f"CNN: {k}")
        return m

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        first, last = cfg.checkpoints[0], cfg.checkpoints[-1]
        ece_half = None if m["ece"] is None else 0.5 * m["ece"]
        same_acc = None if None in (m["acc_ts"], m["acc"]) else m["acc_ts"] == m["acc"]
        parts = {"over-confidence (T > 1.1)": at_least(m["temperature"], 1.1, noise=0.0),
                 "over-confidence growing with training": at_least(m["temperature"], m["temperature_first"],
                                                                   noise=0.0),
                 "temperature scaling halving ECE": None if same_acc is None else (
                     same_acc and at_most(m["ece_ts"], ece_half))}
        text = (f"Width-{cfg.widths[-1]} MLP after {last} epochs: ECE {fmt(m['ece'], '.3f')} (after {first} epochs: "
                f"{fmt(m['ece_first'], '.3f')}; sampling error +-{fmt(m['ece_se'], '.3f')}), fitted T = "
                f"{fmt(m['temperature'], '.2f')} (after {first}: {fmt(m['temperature_first'], '.2f')}); temperature "
                f"scaling: ECE {fmt(m['ece_ts'], '.3f')}, NLL {fmt(m['nll'], '.3f')} -> {fmt(m['nll_ts'], '.3f')}, "
                f"accuracy {fmt(m['acc'], '.1%')} -> {fmt(m['acc_ts'], '.1%')}; CNN: ECE {fmt(m['cnn_ece'], '.3f')} -> "
                f"{fmt(m['cnn_ece_ts'], '.3f')} (T = {fmt(m['cnn_temperature'], '.2f')})")
        if at_most(m["max_temperature_last"], 1.0):
            return Verdict("fails", text + ". No over-confidence: every fitted T <= 1.")
        return Verdict.combine(parts, text)

    def table(self, grid: dict) -> Table:
        cols = ["width", "epochs", "train loss", "accuracy", "ECE", "MCE", "NLL", "Brier", "T", "ECE after T",
                "NLL after T"]
        keys = ["train_loss", "acc", "ece", "mce", "nll", "brier", "temperature", "ece_ts", "nll_ts"]
        rows = [[w, e, *[round(m[k], 4) for k in keys]] for (w, e), m in grid.items()]
        return Table("Every (width, training length)", cols, rows,
                     caption="Test metrics; T is fitted on the validation split. T > 1 means over-confident.")

    def figures(self, grid: dict, logits: dict[str, tuple[Tensor, Tensor]]) -> list[Figure]:
        cfg, data = self.config, digits()
        panels = []
        for name, (val, test) in logits.items():
            scaler = cal.TemperatureScaler().fit(val, data.val.y)
            curves = []
            for label, probs in (("before", torch.softmax(test.double(), 1)),
                                 (f"after (T = {scaler.temperature_:.2f})", scaler.predict_proba(test.double()))):
                r = cal.reliability(probs, data.test.y, bins=cfg.bins)
                keep = r.counts > 0
                curves.append(figures.series(f"{label}: ECE {cal.ece(probs, data.test.y, bins=cfg.bins):.3f}",
                                             r.confidence[keep], r.accuracy[keep], weights=r.counts[keep]))
            curves.append(figures.series("perfect calibration", [0, 1], [0, 1], style="line"))
            panels.append(figures.lines(curves, title=name, xlabel="confidence (bin mean)",
                                        ylabel="accuracy in bin", ylim=(0, 1.02)))
        reliab = Figure("reliability", "Reliability diagrams before and after temperature scaling", panels,
                        caption="Points below the diagonal: more confident than accurate. A marker's area is "
                        "proportional to the number of test images in its bin: most sit in the top bin.")
        over_training = Figure("ece-vs-training", "Calibration over training length and width", [
            figures.lines([figures.series(f"width {w}", cfg.checkpoints, [grid[w, e][key] for e in cfg.checkpoints])
                           for w in cfg.widths], title=title, xlabel="epochs", ylabel=title, xscale="log",
                          hlines=[{"y": 1.0, "label": "T = 1"}] * (key == "temperature"))
            for key, title in (("ece", "test ECE"), ("temperature", "fitted temperature"), ("nll", "test NLL"))],
            caption="One training run per width, read at several lengths.")
        return [reliab, over_training]
