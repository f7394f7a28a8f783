"""Audit section: are this model's confidences calibrated, and does temperature scaling fix them?

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599
(ECE and MCE over `BINS` equal-width confidence bins, reliability diagrams, temperature scaling).

Protocol: the given inputs are split in two halves by a seeded permutation. A `TemperatureScaler` is
fitted (NLL, L-BFGS) on the first half; ECE, MCE, NLL, Brier score and accuracy are measured on the
second half before and after dividing the logits by the fitted T (the remedy). T > 1 means the model
was over-confident, T < 1 under-confident. Scaling by T keeps every argmax, so accuracy cannot change.

Verdict: holds (the model is miscalibrated) if the held-out ECE before scaling is >= 0.05 or the fitted
T lies outside [0.8, 1.25]; fails otherwise. The evidence says whether the remedy helps, i.e. whether
temperature scaling lowers the held-out ECE.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

import torch
from torch import Tensor

from limitlab import calibration as cal
from limitlab import figures
from limitlab.audit._common import AuditData, section_result
from limitlab.context import Context
from limitlab.errors import DataError
from limitlab.result import Figure, Result, Verdict

BINS = 15
MAX_ECE = 0.05
T_RANGE = (0.8, 1.25)
CLAIM = ("Are this model's confidences calibrated (does 80% confidence mean 80% accuracy), and does "
         "temperature scaling fitted on half of the data calibrate it on the other half?")


def split_halves(n: int, ctx: Context) -> tuple[Tensor, Tensor]:
    """(fit, held-out) indices: a seeded permutation cut in two (the fit half gets the smaller one if n is odd)."""
    if n < 2:
        raise DataError(f"calibration needs at least 2 inputs to split in halves, got {n}; pass more data")
    perm = torch.randperm(n, generator=ctx.generator("calibration-split"))
    return perm[: n // 2], perm[n // 2:]


def scores(probs: Tensor, y: Tensor) -> dict[str, float]:
    return {"ece": cal.ece(probs, y, bins=BINS), "mce": cal.mce(probs, y, bins=BINS), "nll": cal.nll(probs, y),
            "brier": cal.brier(probs, y), "acc": cal.accuracy(probs, y)}


def run(model, data: AuditData, ctx: Context) -> Result:
    """Fit T on one half, measure calibration before and after on the other."""
    fit, held = split_halves(len(data.y), ctx)
    z = data.logits.double()  # float64: ECE sums over bins and the fit are stable to the last digit
    scaler = cal.TemperatureScaler().fit(z[fit], data.y[fit])
    before = torch.softmax(z[held], 1)
    after = scaler.predict_proba(z[held])
    m_before, m_after = scores(before, data.y[held]), scores(after, data.y[held])
    names = {"ece": "ECE", "mce": "MCE", "nll": "NLL", "brier": "Brier score", "acc": "accuracy"}
    units = {"ece": "probability", "mce": "probability", "nll": "nats", "brier": "", "acc": "fraction"}
    metrics: dict[str, tuple] = {"temperature": (scaler.temperature_, "", "T fitted on the first half (> 1: over-confident)"),
                                 "num_fit": (len(fit), "inputs", "inputs T was fitted on"),
                                 "num_held_out": (len(held), "inputs", "inputs the scores are measured on")}
    for key, name in names.items():
        metrics[key] = (m_before[key], units[key], f"held-out {name} before temperature scaling")
        metrics[f"{key}_ts"] = (m_after[key], units[key], f"held-out {name} after temperature scaling")
    figure = reliability_figure(before, after, data.y[held], scaler.temperature_)
    return section_result("calibration", claim=CLAIM, module=sys.modules[__name__], metrics=metrics,
                          verdict=judge({k: v[0] for k, v in metrics.items()}), figures=[figure],
                          config={"bins": BINS, "split": "seeded halves"})


def reliability_figure(before: Tensor, after: Tensor, y: Tensor, temperature: float) -> Figure:
    curves = []
    for label, probs in (("before", before), (f"after (T = {temperature:.2f})", after)):
        r = cal.reliability(probs, y, bins=BINS)
        keep = r.counts > 0
        curves.append(figures.series(f"{label}: ECE {cal.ece(probs, y, bins=BINS):.3f}", r.confidence[keep],
                                     r.accuracy[keep], weights=r.counts[keep]))
    curves.append(figures.series("perfect calibration", [0, 1], [0, 1], style="line"))
    return Figure("reliability", "Reliability diagram on the held-out half", [
        figures.lines(curves, xlabel="confidence (bin mean)", ylabel="accuracy in bin", ylim=(0, 1.02))],
        caption="Points below the diagonal: more confident than accurate. A marker's area is proportional to "
                "the number of inputs in its bin.")


def judge(m: Mapping[str, float | None]) -> Verdict:
    """The rule in the module docstring, over the metric values."""
    t, ece, ece_ts = m["temperature"], m["ece"], m["ece_ts"]
    miscalibrated = ece >= MAX_ECE or not T_RANGE[0] <= t <= T_RANGE[1]
    helps = ece_ts < ece
    text = (f"Held-out ECE {ece:.3f} (MCE {m['mce']:.3f}, NLL {m['nll']:.3f}), fitted T = {t:.2f} "
            f"({'over' if t > 1 else 'under'}-confident); temperature scaling: ECE {ece:.3f} -> {ece_ts:.3f}, "
            f"NLL {m['nll']:.3f} -> {m['nll_ts']:.3f}, accuracy {m['acc']:.1%} -> {m['acc_ts']:.1%}; "
            f"the remedy {'helps' if helps else 'does not help'}")
    if miscalibrated:
        return Verdict("holds", f"{text}.")
    return Verdict("fails", f"{text}. Calibrated: ECE < {MAX_ECE} and T within {list(T_RANGE)}.")
