"""Calibration: predicted probabilities are not calibrated by default; temperature scaling fixes them.

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599
(ECE with 15 equal-width bins on the top label; one temperature fitted on validation NLL). Source: 001
("sometimes the probabilities make sense, in which case we call them calibrated").

Protocol: MLPs of growing width (two hidden layers), trained without regularization or early stopping, read at the
`checkpoints`. For each (width, length): test accuracy, ECE, MCE, NLL, Brier, validation NLL, and the temperature T
fitted on the validation split (T > 1: over-confident), with the test metrics after scaling. Noise floors
(`limitlab.calibration.noise_floor`): T's bootstrap over the validation split, and the ECE that a perfectly
calibrated predictor with the same confidences scores on the same points (about 2% on 360 digits). The reference
CNN, MC dropout and a deep ensemble are reported, not judged.

Verdict: the widest MLP at the longest training ("trained to low loss") is judged; a comparison must clear its noise
floor (two standard errors: bootstrap for T, paired for a difference) and, over seeds, the spread. "over" = its T >
1; "grows" = its T exceeds the T at the checkpoint of lowest validation NLL (where early stopping stops:
over-confidence grows as training goes on lowering the training loss; the first epoch is merely under-fit);
"restores" = scaling keeps the test accuracy exactly, lowers the held-out NLL (Guo et al.'s measure, the one T is
fitted on) and leaves an ECE within a calibrated predictor's (<= the 95th percentile of its floor). Halving ECE is
not asked: on 360 points ECE is near its floor even before scaling. Holds if all three hold; fails if T <= 1 for
every width at the longest training; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from limitlab import calibration as cal
from limitlab import figures
from limitlab.calibration.diagram import reliability_panel
from limitlab.calibration.noise_floor import temperature_bootstrap
from limitlab.calibration.summary import before_after_temperature, calibration_scores, scaling_with_noise
from limitlab.config import Checked, Each, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.ensemble import train_members
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import margin
from limitlab.study import Study, register
from limitlab.uncertainty.predictive import predictive


@dataclass(frozen=True)
class CalibrationConfig(Checked):
    constraints: ClassVar = {
        "widths": Each(Interval(1), min_len=1), "checkpoints": Each(Interval(1), min_len=2, unique=True),
        "num_bootstrap": Interval(2), "num_floor": Interval(20), "bins": Interval(1),
        "lr": Interval(0, closed="neither"), "batch_size": Interval(1), "cnn_epochs": Interval(1),
        "num_members": Interval(2), "member_epochs": Interval(1), "mc_samples": Interval(2)}
    widths: tuple[int, ...] = (32, 128, 512)
    checkpoints: tuple[int, ...] = (1, 2, 3, 5, 8, 12, 20, 30, 50, 80)  # epochs at which the weights are read
    num_bootstrap: int = 30  # validation resamples for T's noise floor
    num_floor: int = 500  # label draws for ECE's noise floor
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
        "tiny": {"widths": (16, 128), "checkpoints": (1, 4), "num_bootstrap": 5, "num_floor": 50, "cnn_epochs": 3,
                 "num_members": 2, "member_epochs": 2, "mc_samples": 8},
        "full": {"widths": (16, 64, 256, 1024, 2048), "num_bootstrap": 200, "num_floor": 2000,
                 "checkpoints": (1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200), "cnn_epochs": 80},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m, last = self.config, digits(), Metrics(), self.config.checkpoints[-1]
        grid: dict[tuple[int, int], dict[str, float]] = {}
        logits: dict[tuple[int, int], tuple[Tensor, Tensor]] = {}  # (validation, test) logits per (width, epoch)
        for width in ctx.progress.track(cfg.widths, description="widths"):
            with ctx.seeded_torch("init", "mlp", width):  # each width its own stream
                model = build("mlp", hidden=(width, width))
            history = fit(model, data.train, ctx=ctx, snapshot_epochs=cfg.checkpoints, description=f"width {width}",
                          config=TrainConfig(epochs=last, lr=cfg.lr, batch_size=cfg.batch_size, patience=None))
            for epoch in cfg.checkpoints:
                model.load_state_dict(history.snapshots[epoch])
                val, test = logits[width, epoch] = predict_logits(model, data.val.x), predict_logits(model, data.test.x)
                grid[width, epoch] = before_after_temperature(val, data.val.y, test, data.test.y, bins=cfg.bins)
                grid[width, epoch] |= {"train_loss": history.train_loss[epoch - 1],
                                       "val_nll": cal.nll(torch.softmax(val.double(), 1), data.val.y)}
        best = min(cfg.checkpoints, key=lambda e: grid[cfg.widths[-1], e]["val_nll"])  # where early stopping stops
        self.widest(ctx, m, grid, logits, best)
        tables = [self.table(grid), self.reported(ctx, m, logits)]  # (reported adds the CNN's logits for figures)
        return self.result(ctx, metrics=m, tables=tables, figures=self.figures(grid, logits, best, m))

    def widest(self, ctx: Context, m: Metrics, grid: dict, logits: dict, best: int) -> None:
        cfg, data = self.config, digits()  # the judged model's metrics, with their noise floors
        wide, last = cfg.widths[-1], cfg.checkpoints[-1]
        (val, test), val_best = logits[wide, last], logits[wide, best][0]
        top = scaling_with_noise(val, data.val.y, test, data.test.y, bins=cfg.bins, num_floor=cfg.num_floor,
                                 generator=ctx.generator("ece-floor"))  # grid[wide, last]'s numbers, with floors
        boot = temperature_bootstrap([val, val_best], data.val.y, num=cfg.num_bootstrap,
                                     generator=ctx.generator("temperature-bootstrap"))
        m.add("ece", top["ece"], "fraction", f"test ECE, width {wide}, {last} epochs", noise=top["ece_floor"])
        m.add("ece_ts", top["ece_ts"], "fraction", "the same after temperature scaling", noise=top["ece_ts_floor"])
        m.add("ece_ts_limit", top["ece_ts_floor95"], "fraction", "95th percentile of a calibrated predictor's ECE")
        m.add("temperature", top["temperature"], "", "T fitted on validation NLL (> 1: over-confident)",
              noise=float(2 * boot[:, 0].std()))
        m.add("best_epoch", best, "epochs", "checkpoint of lowest validation NLL (where early stopping stops)")
        m.add("temperature_best", grid[wide, best]["temperature"], "", "fitted T at that checkpoint")
        m.add("temperature_growth", top["temperature"] - grid[wide, best]["temperature"], "", "T at the longest "
              "training - T at that checkpoint", noise=float(2 * (boot[:, 0] - boot[:, 1]).std()))
        m.add("nll_gain", top["nll_gain"], "nats", "test NLL lowered by scaling", noise=top["nll_gain_noise"])
        for key, unit in (("nll", "nats"), ("acc", "fraction"), ("brier", "")):
            m.add(key, top[key], unit, f"test {key} before scaling")
            m.add(f"{key}_ts", top[f"{key}_ts"], unit, f"test {key} after scaling")
        m.add("max_temperature_last", max(grid[w, last]["temperature"] for w in cfg.widths), "", "largest fitted T "
              f"over widths after {last} epochs")

    def reported(self, ctx: Context, m: Metrics, logits: dict) -> Table:
        """The reference CNN before and after scaling; one CNN, its MC-dropout average and the ensemble average."""
        cfg, data, cnn = self.config, digits(), digits_cnn(ctx, epochs=self.config.cnn_epochs)  # the shared CNN
        val, test = logits[0, 0] = predict_logits(cnn, data.val.x), predict_logits(cnn, data.test.x)
        cnn_m = before_after_temperature(val, data.val.y, test, data.test.y, bins=cfg.bins)
        for k in ("ece", "ece_ts", "temperature", "acc", "nll"):
            m.add(f"cnn_{k}", cnn_m[k], "", f"CNN: {k}")
        models = train_members(ctx, num_members=cfg.num_members, epochs=cfg.member_epochs, dropout=0.25)
        probs = predictive(models, data.test.x, mc_samples=cfg.mc_samples, generator=ctx.generator("calibration-mc"))
        names = {"det": "one CNN (member 0)", "mc": f"MC dropout ({cfg.mc_samples})", "ens": "deep ensemble"}
        rows = []
        for key, p in probs.items():
            values = calibration_scores((p if key == "det" else p.mean(0)).double(), data.test.y, bins=cfg.bins)
            for k in ("acc", "ece", "nll", "brier"):
                m.add(f"{'member' if key == 'det' else key}_{k}", values[k], "", f"{names[key]}: test {k}")
            rows.append([names[key], *[round(values[k], 4) for k in ("acc", "ece", "mce", "nll", "brier")]])
        return Table("MC dropout and deep ensemble", ["predictor", "accuracy", "ECE", "MCE", "NLL", "Brier"], rows,
                     caption=f"Averaged probabilities on the test set, no temperature; CNNs trained "
                             f"{cfg.member_epochs} epochs with early stopping (the uncertainty study's ensemble).")

    def judge(self, m: MetricValues) -> Verdict:
        restores = {"accuracy unchanged": None if None in (m["acc_ts"], m["acc"]) else m["acc_ts"] == m["acc"],
                    "NLL lowered beyond its noise floor": at_least(m["nll_gain"], 0.0, noise=margin(m, "nll_gain")),
                    "ECE within a calibrated predictor's 95th percentile": at_most(m["ece_ts"], m["ece_ts_limit"])}
        parts = {"over-confidence (T > 1)": at_least(m["temperature"], 1.0, noise=margin(m, "temperature")),
                 "over-confidence growing past the best-validation epoch": at_least(
                     m["temperature_growth"], 0.0, noise=margin(m, "temperature_growth")),
                 "temperature scaling restoring calibration": every(restores.values())}  # all three of restores
        f3 = lambda name: fmt(m[name], ".3f")  # noqa: E731
        text = (f"Width-{self.config.widths[-1]} MLP after {self.config.checkpoints[-1]} epochs: T = "
                f"{fmt(m['temperature'], '.2f')} +- {fmt(margin(m, 'temperature'), '.2f')} (at the best validation "
                f"epoch, {fmt(m['best_epoch'], '.0f')}: {fmt(m['temperature_best'], '.2f')}); scaling: NLL {f3('nll')} "
                f"-> {f3('nll_ts')} (gain {f3('nll_gain')} +- {fmt(margin(m, 'nll_gain'), '.3f')}), ECE {f3('ece')} -> "
                f"{f3('ece_ts')} (calibrated: {fmt(margin(m, 'ece_ts'), '.3f')}, up to {f3('ece_ts_limit')}), "
                f"accuracy {fmt(m['acc'], '.1%')} -> {fmt(m['acc_ts'], '.1%')}; CNN: ECE {f3('cnn_ece')} -> "
                f"{f3('cnn_ece_ts')} (T = {fmt(m['cnn_temperature'], '.2f')})")
        if at_most(m["max_temperature_last"], 1.0):
            return Verdict("fails", text + ". No over-confidence: every fitted T <= 1.")
        why = ", ".join(k for k, ok in restores.items() if not ok)  # which conditions of "restores" did not hold
        return Verdict.combine(parts, text, missing={"temperature scaling restoring calibration": f"Not shown: "
                               f"temperature scaling restoring calibration ({why}: not shown)."})

    def table(self, grid: dict) -> Table:
        cols = {"train_loss": "train loss", "val_nll": "val NLL", "acc": "accuracy", "ece": "ECE", "mce": "MCE",
                "nll": "NLL", "brier": "Brier", "temperature": "T", "ece_ts": "ECE after T", "nll_ts": "NLL after T"}
        return Table("Every (width, training length)", ["width", "epochs", *cols.values()],
                     [[w, e, *[round(m[k], 4) for k in cols]] for (w, e), m in grid.items()],
                     caption="Test metrics; T is fitted on the validation split. T > 1 means over-confident.")

    def figures(self, grid: dict, logits: dict, best: int, m: Metrics) -> list[Figure]:
        cfg, data, wide, last = self.config, digits(), self.config.widths[-1], self.config.checkpoints[-1]
        panels = []
        for key, name in (((wide, last), f"MLP {wide}x2, {last} epochs"), ((0, 0), "CNN (dropout, early stop)")):
            t, test = cal.TemperatureScaler().fit(logits[key][0], data.val.y), logits[key][1].double()
            panels.append(reliability_panel({"before": torch.softmax(test, 1), f"after (T = {t.temperature_:.2f})":
                                             t.predict_proba(test)}, data.test.y, bins=cfg.bins, title=name))
        series = {key: [figures.series(f"width {w}", cfg.checkpoints, [grid[w, e][key] for e in cfg.checkpoints])
                        for w in cfg.widths] for key in ("ece", "temperature", "val_nll")}
        mark = [{"x0": best * 0.95, "x1": best * 1.05, "label": f"best validation NLL (width {wide})"}]
        level = {"temperature": [{"y": 1.0, "label": "T = 1"}], "val_nll": [],
                 "ece": [{"y": m["ece"].noise, "label": f"a calibrated predictor (width {wide}, {last} epochs)"}]}
        return [Figure("reliability", "Reliability diagrams before and after temperature scaling", panels,
                       caption="Points below the diagonal: more confident than accurate. A marker's area is "
                       "proportional to the number of test images in its bin: most sit in the top bin."),
                Figure("ece-vs-training", "Calibration over training length and width", [
                    figures.lines(series[key], title=title, xlabel="epochs", ylabel=title, xscale="log", vspans=mark,
                                  hlines=level[key], yscale="log" if key == "ece" else "linear")
                    for key, title in (("ece", "test ECE"), ("temperature", "fitted temperature"),
                                       ("val_nll", "validation NLL"))],
                    caption="One training run per width, read at several lengths. The dashed ECE level: what a "
                            "perfectly calibrated predictor with the judged model's confidences scores on 360 points.")]
