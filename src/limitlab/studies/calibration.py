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

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from limitlab import calibration as cal
from limitlab import figures, uncertainty
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.ensemble import train_members
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Result, Table, Verdict
from limitlab.study import Study, register


@dataclass(frozen=True)
class CalibrationConfig:
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

    def __post_init__(self) -> None:
        check(len(self.widths) >= 1 and min(self.widths) >= 1, f"widths={self.widths}; expected widths >= 1")
        check(len(self.checkpoints) >= 2 and min(self.checkpoints) >= 1,
              f"checkpoints={self.checkpoints}; expected at least two epoch counts >= 1")
        check(list(self.checkpoints) == sorted(set(self.checkpoints)),
              f"checkpoints={self.checkpoints}; expected increasing epoch counts")
        check(self.bins >= 1, f"bins={self.bins}; expected >= 1")
        check(self.num_bootstrap >= 2, f"num_bootstrap={self.num_bootstrap}; expected >= 2")
        check(self.lr > 0 and self.batch_size >= 1 and self.cnn_epochs >= 1, "lr, batch_size, cnn_epochs must be positive")
        check(self.num_members >= 2 and self.member_epochs >= 1 and self.mc_samples >= 2,
              "num_members and mc_samples must be >= 2, member_epochs >= 1")


def measure(val_logits: Tensor, test_logits: Tensor, val_y: Tensor, test_y: Tensor, bins: int) -> dict[str, float]:
    """Test metrics before and after a temperature fitted on the validation split."""
    scaler = cal.TemperatureScaler().fit(val_logits, val_y)
    out = {"temperature": scaler.temperature_}
    for tag, probs in (("", torch.softmax(test_logits.double(), 1)), ("_ts", scaler.predict_proba(test_logits.double()))):
        out |= {f"acc{tag}": cal.accuracy(probs, test_y), f"ece{tag}": cal.ece(probs, test_y, bins=bins),
                f"mce{tag}": cal.mce(probs, test_y, bins=bins), f"nll{tag}": cal.nll(probs, test_y),
                f"brier{tag}": cal.brier(probs, test_y)}
    return out


def bootstrap_se(probs: Tensor, y: Tensor, bins: int, num: int, gen: torch.Generator) -> float:
    """Standard deviation of ECE over `num` resamples (with replacement) of the test set."""
    index = torch.randint(len(y), (num, len(y)), generator=gen)
    values = torch.tensor([cal.ece(probs[i], y[i], bins=bins) for i in index])
    return float(values.std())


@register("calibration", chapter="uncertainty", sources=("001",))
class Calibration(Study[CalibrationConfig]):
    """Calibration and temperature scaling (Guo et al. 2017). Source: 001."""

    claim = ("Predicted probabilities are not calibrated by default: networks trained to low loss become "
             "over-confident, and temperature scaling restores calibration without changing accuracy.")
    Config = CalibrationConfig
    presets = {
        "tiny": {"widths": (16, 128), "checkpoints": (1, 4), "cnn_epochs": 3, "num_members": 2, "member_epochs": 2,
                 "mc_samples": 8},
        "full": {"widths": (16, 64, 256, 1024, 2048), "num_bootstrap": 1000, "checkpoints": (1, 2, 5, 10, 20, 50, 100, 200),
                 "cnn_epochs": 80},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        grid: dict[tuple[int, int], dict[str, float]] = {}
        logits: dict[str, tuple[Tensor, Tensor]] = {}
        last = cfg.checkpoints[-1]
        for width in ctx.progress.track(cfg.widths, description="widths"):
            model = build("mlp", hidden=(width, width))
            history = fit(model, data.train, ctx=ctx, snapshot_epochs=cfg.checkpoints, description=f"width {width}",
                          config=TrainConfig(epochs=last, lr=cfg.lr, batch_size=cfg.batch_size, patience=None))
            for epoch in cfg.checkpoints:
                model.load_state_dict(history.snapshots[epoch])
                val, test = predict_logits(model, data.val.x), predict_logits(model, data.test.x)
                grid[width, epoch] = measure(val, test, data.val.y, data.test.y, cfg.bins)
                grid[width, epoch]["train_loss"] = history.train_loss[epoch - 1]
            logits[f"MLP {width}x2, {last} epochs"] = (val, test)
        ece_se = bootstrap_se(torch.softmax(test.double(), 1), data.test.y, cfg.bins, cfg.num_bootstrap,
                                   ctx.generator("bootstrap"))
        cnn = digits_cnn(ctx, epochs=cfg.cnn_epochs)  # the shared reference CNN (cached across studies)
        logits["CNN (dropout, early stop)"] = (predict_logits(cnn, data.val.x), predict_logits(cnn, data.test.x))
        cnn_m = measure(*logits["CNN (dropout, early stop)"], data.val.y, data.test.y, cfg.bins)
        bayes_metrics, bayes_table = self.bayes_arm(ctx)
        return self.result(ctx, metrics=self.metrics(grid, cnn_m, ece_se) | bayes_metrics,
                           tables=[self.table(grid), bayes_table], figures=self.figures(grid, logits))

    def bayes_arm(self, ctx: Context) -> tuple[dict[str, tuple], Table]:
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
        out, rows = {}, []
        for key, p in probs.items():
            p = p.double()
            values = {"acc": cal.accuracy(p, y), "ece": cal.ece(p, y, bins=cfg.bins),
                      "mce": cal.mce(p, y, bins=cfg.bins), "nll": cal.nll(p, y), "brier": cal.brier(p, y)}
            out |= {f"{key}_{k}": (v, "", f"{names[key]}: test {k}") for k, v in values.items() if k != "mce"}
            rows.append([names[key], *[round(values[k], 4) for k in ("acc", "ece", "mce", "nll", "brier")]])
        table = Table("MC dropout and deep ensemble", ["predictor", "accuracy", "ECE", "MCE", "NLL", "Brier"], rows,
                      caption=f"Averaged probabilities on the test set, no temperature; CNNs trained "
                              f"{cfg.member_epochs} epochs with early stopping (the uncertainty study's ensemble).")
        return out, table

    def metrics(self, grid: dict, cnn_m: dict[str, float], ece_se: float) -> dict[str, tuple]:
        cfg = self.config
        wide, first, last = cfg.widths[-1], cfg.checkpoints[0], cfg.checkpoints[-1]
        top = grid[wide, last]
        out = {
            "ece_first": (grid[wide, first]["ece"], "fraction", f"test ECE, width {wide}, after {first} epochs"),
            "ece": (top["ece"], "fraction", f"test ECE, width {wide}, after {last} epochs"),
            "ece_ts": (top["ece_ts"], "fraction", "the same after temperature scaling"),
            "ece_se": (ece_se, "fraction", "bootstrap standard error of that ECE (test-set sampling noise)"),
            "temperature_first": (grid[wide, first]["temperature"], "", f"fitted temperature after {first} epochs"),
            "temperature": (top["temperature"], "", "temperature fitted on validation NLL (> 1: over-confident)"),
            "nll": (top["nll"], "nats", "test NLL before scaling"),
            "nll_ts": (top["nll_ts"], "nats", "test NLL after scaling"),
            "acc": (top["acc"], "fraction", "test accuracy before scaling"),
            "acc_ts": (top["acc_ts"], "fraction", "test accuracy after scaling"),
            "brier": (top["brier"], "", "test Brier score before scaling"),
            "brier_ts": (top["brier_ts"], "", "test Brier score after scaling"),
            "max_temperature_last": (max(grid[w, last]["temperature"] for w in cfg.widths), "",
                                     f"largest fitted temperature over widths after {last} epochs"),
        }
        out |= {f"cnn_{k}": (v, "", f"CNN: {k}") for k, v in cnn_m.items() if k in ("ece", "ece_ts", "temperature", "acc", "nll")}
        return out

    def table(self, grid: dict) -> Table:
        cols = ["width", "epochs", "train loss", "accuracy", "ECE", "MCE", "NLL", "Brier", "T", "ECE after T", "NLL after T"]
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
                        caption="Points below the diagonal: the model is more confident than it is accurate. A marker's area "
                        "is proportional to the number of test images in its bin: most sit in the top bin.")
        over_training = Figure("ece-vs-training", "Calibration over training length and width", [
            figures.lines([figures.series(f"width {w}", cfg.checkpoints, [grid[w, e][key] for e in cfg.checkpoints])
                           for w in cfg.widths], title=title, xlabel="epochs", ylabel=title, xscale="log",
                          hlines=[{"y": 1.0, "label": "T = 1"}] if key == "temperature" else [])
            for key, title in (("ece", "test ECE"), ("temperature", "fitted temperature"), ("nll", "test NLL"))],
            caption="One training run per width, read at several lengths.")
        return [reliab, over_training]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config
        over, grows = m["temperature"] > 1.1, m["temperature"] > m["temperature_first"]
        restores = m["ece_ts"] <= 0.5 * m["ece"] and m["acc_ts"] == m["acc"]
        text = (f"Width-{cfg.widths[-1]} MLP after {cfg.checkpoints[-1]} epochs: ECE {m['ece']:.3f} (after "
                f"{cfg.checkpoints[0]} epochs: {m['ece_first']:.3f}; sampling error +-{m['ece_se']:.3f}), fitted T = "
                f"{m['temperature']:.2f} (after {cfg.checkpoints[0]}: {m['temperature_first']:.2f}); temperature "
                f"scaling: ECE {m['ece_ts']:.3f}, NLL {m['nll']:.3f} -> {m['nll_ts']:.3f}, accuracy {m['acc']:.1%} -> "
                f"{m['acc_ts']:.1%}; CNN: ECE {m['cnn_ece']:.3f} -> {m['cnn_ece_ts']:.3f} (T = {m['cnn_temperature']:.2f})")
        if over and grows and restores:
            return Verdict("holds", text + ".")
        if m["max_temperature_last"] <= 1.0:
            return Verdict("fails", text + ". No over-confidence: every fitted T <= 1.")
        missing = [n for n, ok in (("over-confidence (T > 1.1)", over), ("over-confidence growing with training", grows),
                                   ("temperature scaling halving ECE", restores)) if not ok]
        return Verdict("inconclusive", f"{text}. Not shown: {', '.join(missing)}.")
