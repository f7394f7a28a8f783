"""Audit section "calibration": does this model's confidence mean what it says, on inputs it was not fitted on?

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599
(ECE over equal-width bins, reliability diagrams, temperature scaling); Broecker, Smith 2007 (the
ECE a calibrated model shows on n inputs: the noise floor, `limitlab.calibration.noise_floor`).

Protocol: on what the model means (its logits; log p when it outputs probabilities, so softmax gives
back its own p), in float64. A seeded split in halves: temperature T is fitted (NLL, L-BFGS) on the
first; ECE, NLL, Brier and accuracy are measured on the held-out half before and after dividing the
logits by T. T > 1: the model was over-confident; T < 1: under-confident. Intervals: a bootstrap
over the held-out inputs (ECE, NLL and the NLL gained by scaling, paired), Clopper-Pearson for the
accuracy; the ECE's noise floor is the mean ECE of labels drawn from the model's own confidences.

Verdict: unreliable if the forward pass is not deterministic. Holds (miscalibrated) if the held-out
ECE's 95% interval lies above `max_ece` (0.05) by more than its noise floor; fails (calibrated) if
that interval lies below 0.05 and temperature scaling does not lower the held-out NLL (the interval of
the gain does not lie above 0); inconclusive otherwise (the interval straddles 0.05, or the ECE is
small while rescaling still measurably improves the NLL). The evidence says whether the remedy helps.
"""
from __future__ import annotations

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
from limitlab.audit.subject import subject_of
from limitlab.calibration.noise_floor import ece_noise_floor
from limitlab.calibration.series import diagonal, reliability_series
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.study import AUDIT_CHAPTER, register


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
        before, after = torch.softmax(scaled[""], 1), torch.softmax(scaled["_ts"], 1)
        w = weights(len(held), num=cfg.num_bootstrap, rng=ctx.rng("calibration", "bootstrap"))
        m = Metrics()
        add_trust(m, s)
        m.add("outputs_probabilities", float(s.kind.kind == "probabilities"), "flag",
              "1: measured on log p, the model's outputs being probabilities")
        m.add("temperature", scaler.temperature_, "", "T fitted on the first half (> 1: over-confident)")
        m.add("num_held_out", len(held), "inputs", "inputs the scores are measured on")
        nll = {}
        for tag, probs in (("", before), ("_ts", after)):
            conf, pred = probs.max(1)
            correct = (pred == y).double().numpy()
            e = weighted.ece(w, conf.numpy(), correct, bins=cfg.bins)
            noise = float(ece_noise_floor(conf, bins=cfg.bins, num=cfg.noise_draws,
                                          generator=ctx.generator("calibration", "noise", tag)).mean())
            add_bootstrap(m, f"ece{tag}", e[0], e[1:], "probability", f"held-out ECE{' after scaling' if tag else ''}",
                          level=cfg.level, noise=noise)
            nll[tag] = F.cross_entropy(scaled[tag], y, reduction="none").numpy()
            per = w @ nll[tag] / len(held)
            add_bootstrap(m, f"nll{tag}", per[0], per[1:], "nats", f"held-out NLL{' after scaling' if tag else ''}",
                          level=cfg.level)
            m.add(f"brier{tag}", cal.brier(probs, y), "", f"held-out Brier score{' after scaling' if tag else ''}")
        gain = w @ (nll[""] - nll["_ts"]) / len(held)
        add_bootstrap(m, "nll_gain", gain[0], gain[1:], "nats", "held-out NLL lowered by temperature scaling (paired)",
                      level=cfg.level)
        add_share(m, "acc", before.argmax(1) == y, "held-out accuracy (scaling keeps every argmax)", level=cfg.level)
        figure = Figure("reliability", "Reliability diagram on the held-out half", [figures.lines(
            [reliability_series(before, y, bins=cfg.bins, label="before"),
             reliability_series(after, y, bins=cfg.bins, label=f"after (T = {scaler.temperature_:.2f})"), diagonal()],
            xlabel="confidence (bin mean)", ylabel="accuracy in bin", ylim=(0, 1.02))],
            caption="Points below the diagonal: more confident than accurate. A marker's area is proportional to the "
                    "number of inputs in its bin." + (" Measured on log p: the model outputs probabilities."
                                                     if s.kind.kind == "probabilities" else ""))
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
                + ("" if helps is None else "; the remedy helps" if helps else "; the remedy does not lower the NLL"))
        if ece_iv is None:
            return Verdict("inconclusive", f"{text}. Not measured: the ECE's interval.")
        if ece_iv[0] - floor > cfg.max_ece:
            return Verdict("holds", f"{text}. Miscalibrated: the ECE lies above {cfg.max_ece} beyond its noise floor.")
        if ece_iv[1] < cfg.max_ece and helps is False:
            return Verdict("fails", f"{text}. Calibrated: ECE below {cfg.max_ece}, and rescaling does not help.")
        return Verdict("inconclusive", f"{text}. " + (f"The ECE's interval straddles {cfg.max_ece} (or its noise "
                                                      "floor): more inputs would decide." if ece_iv[1] >= cfg.max_ece
                                                      else "The ECE is small, but rescaling still lowers the NLL."))
