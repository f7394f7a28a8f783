"""Audit section "calibration": does this model's confidence mean what it says, on inputs it was not fitted on?

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599
(ECE over equal-width bins, reliability diagrams, temperature scaling); Broecker, Smith 2007 (the
ECE a calibrated model shows on n inputs: the noise floor, `limitlab.calibration.noise_floor`).

Protocol: on what the model means (its logits; log p when it outputs probabilities, so softmax gives
back its own p), in float64. A seeded split in halves: temperature T is fitted (NLL, L-BFGS) on the
first; ECE, NLL, Brier and accuracy are measured on the held-out half before and after dividing the
logits by T. T > 1: the model was over-confident; T < 1: under-confident. Beside it, vector
scaling (Guo et al. sec. 4.2: a scale and a bias per class, `limitlab.calibration.VectorScaler`),
fitted on the same half and measured on the same held-out half; it may change the argmax, so its
accuracy is reported too (with few errors on the fitting half its NLL has no finite minimum: L-BFGS
stops at its iteration cap, and the held-out half shows the over-fit). Intervals: a bootstrap over
the held-out inputs (ECE, NLL, the NLL gained by each scaling and by vector over temperature
scaling, and the accuracy vector scaling moves: all paired), Clopper-Pearson for accuracies; the
ECE's noise floor is the mean ECE of labels drawn from the model's own confidences.

Verdict: unreliable if the forward pass is not deterministic. Holds (miscalibrated) if the held-out
ECE's 95% interval lies above `max_ece` (0.05) by more than its noise floor; fails (calibrated) if
that interval lies below 0.05 and temperature scaling does not lower the held-out NLL (the interval of
the gain does not lie above 0); inconclusive otherwise (the interval straddles 0.05, or the ECE is
small while rescaling still measurably improves the NLL). The evidence says whether the remedy helps;
vector scaling is reported beside it and does not enter the rule.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from limitlab import calibration as cal
from limitlab import figures
from limitlab.audit._common import (
    BootstrapConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    interval,
    shown,
    untrusted,
    weights,
    with_intervals,
)
from limitlab.audit.advice import UNRELIABLE
from limitlab.audit.subject import subject_of
from limitlab.calibration.noise_floor import ece_noise_floor
from limitlab.calibration.series import diagonal, reliability_series
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.errors import DataError
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.study import AUDIT_CHAPTER, register

AFTER = {"": "", "_ts": " after temperature scaling", "_vs": " after vector scaling"}
LABEL = {"": "before", "_ts": "temperature (T = {t:.2f})", "_vs": "vector scaling"}


@dataclass(frozen=True)
class CalibrationConfig(BootstrapConfig):
    constraints: ClassVar = with_intervals(bins=Interval(1), max_ece=Interval(0, 1), noise_draws=Interval(1))
    bins: int = 15
    max_ece: float = 0.05
    noise_draws: int = 200


@register("audit-calibration", chapter=AUDIT_CHAPTER)
class Calibration(Section):
    """Calibration on held-out inputs, with temperature scaling as the remedy: see the module docstring."""

    claim = ("Is this model miscalibrated: does its confidence on inputs it was not fitted on differ from its "
             "accuracy, and does temperature scaling fitted on one half of the data fix it on the other?")
    Config = CalibrationConfig
    presets = {"tiny": {"num_bootstrap": 200, "noise_draws": 50}, "full": {"num_bootstrap": 4000}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        perm = torch.randperm(len(s.y), generator=ctx.generator("calibration-split"))
        fit, held = perm[: len(perm) // 2], perm[len(perm) // 2:]
        z, y = s.logits, s.y[held]
        scaler = cal.TemperatureScaler().fit(z[fit], s.y[fit])
        scaled = {"": z[held], "_ts": scaler.transform(z[held])}
        with contextlib.suppress(DataError):  # 2C parameters on half the inputs: it can diverge (left out then)
            scaled["_vs"] = cal.VectorScaler().fit(z[fit], s.y[fit]).transform(z[held])
        probs = {tag: torch.softmax(v, 1) for tag, v in scaled.items()}
        w = weights(len(held), num=cfg.num_bootstrap, rng=ctx.rng("calibration", "bootstrap"))
        m = Metrics()
        add_trust(m, s)
        m.add("outputs_probabilities", float(s.kind.kind == "probabilities"), "flag",
              "1: measured on log p, the model's outputs being probabilities")
        m.add("temperature", scaler.temperature_, "", "T fitted on the first half (> 1: over-confident)")
        m.add("num_held_out", len(held), "inputs", "inputs the scores are measured on")
        nll, right = {}, {}
        for tag, p in probs.items():
            after = AFTER[tag]
            conf, pred = p.max(1)
            right[tag] = (pred == y).double().numpy()
            e = weighted.ece(w, conf.numpy(), right[tag], bins=cfg.bins)
            noise = float(ece_noise_floor(conf, bins=cfg.bins, num=cfg.noise_draws,
                                          generator=ctx.generator("calibration", "noise", tag)).mean())
            add_bootstrap(m, f"ece{tag}", e[0], e[1:], "probability", f"held-out ECE{after}", level=cfg.level,
                          noise=noise)
            nll[tag] = F.cross_entropy(scaled[tag], y, reduction="none").numpy()
            per = w @ nll[tag] / len(held)
            add_bootstrap(m, f"nll{tag}", per[0], per[1:], "nats", f"held-out NLL{after}", level=cfg.level)
            m.add(f"brier{tag}", cal.brier(p, y), "", f"held-out Brier score{after}")
        for a, b, name, what in (("", "_ts", "nll_gain", "temperature scaling"), ("", "_vs", "nll_gain_vs",
                                 "vector scaling"), ("_ts", "_vs", "nll_vs_over_ts", "vector over temperature")):
            if b in nll:
                gain = w @ (nll[a] - nll[b]) / len(held)
                add_bootstrap(m, name, gain[0], gain[1:], "nats", f"held-out NLL lowered by {what} (paired)",
                              level=cfg.level)
        add_share(m, "acc", right[""] > 0, "held-out accuracy (temperature scaling keeps every argmax)",
                  level=cfg.level)
        if "_vs" in right:
            add_share(m, "acc_vs", right["_vs"] > 0, "held-out accuracy after vector scaling", level=cfg.level)
            moved = w @ (right["_vs"] - right[""]) / len(held)
            add_bootstrap(m, "acc_change_vs", moved[0], moved[1:], "fraction", "held-out accuracy gained by vector "
                          "scaling (paired)", level=cfg.level)
        series = [reliability_series(p, y, bins=cfg.bins, label=LABEL[tag].format(t=scaler.temperature_))
                  for tag, p in probs.items()]
        figure = Figure("reliability", "Reliability diagram on the held-out half", [figures.lines(
            [*series, diagonal()], xlabel="confidence (bin mean)", ylabel="accuracy in bin", ylim=(0, 1.02))],
            caption="Points below the diagonal: more confident than accurate. A marker's area is proportional to the "
                    "number of inputs in its bin; both scalings were fitted on the other half." +
                    (" Measured on log p: the model outputs probabilities." if s.kind.kind == "probabilities" else ""))
        return self.result(ctx, metrics=m, figures=[figure])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        ece_iv, gain_iv = interval(m, "ece"), interval(m, "nll_gain")
        t = m["temperature"]
        side = "" if t is None else " (over-confident)" if t > 1 else " (under-confident)"
        helps = None if gain_iv is None else gain_iv[0] > 0
        floor = (ece.noise if (ece := m.metric("ece")) else None) or 0.0
        text = (f"Held-out ECE {shown(m, 'ece')} (noise floor {floor:.3f}) -> {shown(m, 'ece_ts')} "
                f"after temperature scaling with T = {shown(m, 'temperature', '.2f')}{side}; NLL {shown(m, 'nll')} -> "
                f"{shown(m, 'nll_ts')}; accuracy {shown(m, 'acc', '.1%')} on {int(m['num_held_out'] or 0)} inputs"
                + ("; measured on log p (the model outputs probabilities)" if m["outputs_probabilities"] else "")
                + ("" if helps is None else "; the remedy helps" if helps else "; the remedy does not lower the NLL")
                + ("" if m["nll_vs"] is None else f"; vector scaling: ECE {shown(m, 'ece_vs')}, NLL "
                   f"{shown(m, 'nll_vs')}, accuracy {shown(m, 'acc_vs', '.1%')}"))
        if ece_iv is None:
            return Verdict("inconclusive", f"{text}. Not measured: the ECE's interval.")
        if ece_iv[0] - floor > cfg.max_ece:
            return Verdict("holds", f"{text}. Miscalibrated: the ECE lies above {cfg.max_ece} beyond its noise floor.")
        if ece_iv[1] < cfg.max_ece and helps is False:
            return Verdict("fails", f"{text}. Calibrated: ECE below {cfg.max_ece}, and rescaling does not help.")
        return Verdict("inconclusive", f"{text}. " + (f"The ECE's interval straddles {cfg.max_ece} (or its noise "
                                                      "floor): more inputs would decide." if ece_iv[1] >= cfg.max_ece
                                                      else "The ECE is small, but rescaling still lowers the NLL."))

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        if verdict.status == "unreliable":
            return UNRELIABLE
        ts, vs, n = interval(m, "nll_gain"), interval(m, "nll_vs_over_ts"), int(m["num_held_out"] or 0)
        if verdict.status == "fails" or ts is None:
            return ""
        if ts[0] > 0:
            text = (f"Apply temperature scaling fitted on held-out data (divide the logits by T = "
                    f"{shown(m, 'temperature', '.2f')}): on the other half it lowered the NLL from {shown(m, 'nll')} "
                    f"to {shown(m, 'nll_ts')} and the ECE from {shown(m, 'ece')} to {shown(m, 'ece_ts')}, and it "
                    "cannot change a prediction.")
        elif verdict.status == "holds":
            text = (f"Temperature scaling did not lower the held-out NLL measurably (gain {shown(m, 'nll_gain')}): "
                    "the miscalibration is not one global over- or under-confidence. Try a per-class or binned "
                    "recalibration on held-out data (vector scaling, histogram binning, isotonic regression), "
                    f"with more held-out inputs than {n}.")
        else:
            floor = (e.noise if (e := m.metric("ece")) else None) or 0.0
            text = (f"Undecided on {n} held-out inputs: the ECE {shown(m, 'ece')} is not clear of "
                    f"{self.config.max_ece:g} by more than its noise floor ({floor:.3f}); a larger test set would "
                    "decide (the interval and the floor both shrink as 1 / sqrt(n)).")
        if vs is not None and vs[0] > 0:
            text += (f" Vector scaling (a scale and a bias per class, Guo et al. 2017) did better still: NLL "
                     f"{shown(m, 'nll_vs')}, ECE {shown(m, 'ece_vs')}, accuracy {shown(m, 'acc_vs', '.1%')} (change "
                     f"{shown(m, 'acc_change_vs', '+.1%')}); prefer it if that accuracy change is acceptable, fitted "
                     "on as many held-out inputs as you can spare (its 2 parameters per class over-fit on few).")
        elif vs is not None and ts[0] > 0:
            text += (f" Vector scaling did not beat it measurably (NLL {shown(m, 'nll_vs')}, its gain over temperature "
                     f"scaling {shown(m, 'nll_vs_over_ts')}): the single temperature is the safer choice.")
        return text
