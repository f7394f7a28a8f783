"""Audit section: does this model know when it is wrong, and does MC dropout know better?

Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016, arXiv:1506.02142 (MC dropout:
dropout kept on at test time, T batched passes; predictive entropy and mutual information).
Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in
neural networks. ICLR 2017, arXiv:1610.02136 (max softmax; misclassification detection AUROC).

Runs only on a model with dropout modules (p > 0); otherwise the section is skipped and its Result says
so. Protocol: the model's own confidence (1 - max softmax, eval mode) and the MC-dropout predictive
entropy and mutual information over T passes score every input; each score's misclassification
AUROC is the chance that a wrong prediction scores as more uncertain than a right one (each method
judged on its own predictions: the eval-mode argmax, or the argmax of the MC mean).

Verdict: holds (the model's confidence is a weak signal of its errors) if the max-softmax
misclassification AUROC is < 0.9; fails if it is >= 0.9; inconclusive with fewer than 5 wrong or
5 right predictions (AUROC then rests on too few pairs). The evidence says whether MC dropout helps,
i.e. whether its entropy's AUROC beats max softmax's by >= 0.02.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from limitlab import figures, ood
from limitlab import uncertainty as unc
from limitlab.audit._common import AuditData, section_result
from limitlab.context import Context
from limitlab.result import Figure, Result, Verdict

MAX_AUROC = 0.9
MIN_COUNT = 5
HELPS = 0.02
SCORES = ("max-softmax", "mc-entropy", "mc-mi")
CLAIM = ("Does this model know when it is wrong: do its wrong answers score as more uncertain than its right "
         "ones, and does MC dropout (predictive entropy) tell them apart better than its softmax confidence?")


def skipped(model: nn.Module) -> Result:
    """The Result of a model with no dropout: nothing measured, and the summary says why."""
    return section_result(
        "uncertainty", claim=CLAIM, module=sys.modules[__name__], metrics={},
        verdict=Verdict("inconclusive", f"Skipped: {type(model).__name__} has no dropout module with p > 0, "
                                        "so MC dropout cannot sample it; nothing was measured."),
        config={"skipped": True})


def run(model: nn.Module, data: AuditData, ctx: Context, *, mc_samples: int) -> Result:
    """MC-dropout scores and misclassification AUROCs, or `skipped(model)` without dropout."""
    if not unc.dropout_layers(model):
        return skipped(model)
    probs = torch.softmax(data.logits, 1)
    mc = unc.mc_dropout(model, data.x, samples=mc_samples, seed=ctx.derive_seed("mc-dropout"))
    correct = {"det": probs.argmax(1) == data.y, "mc": mc.mean(0).argmax(1) == data.y}
    score = {"max-softmax": 1 - unc.max_softmax(probs), "mc-entropy": unc.predictive_entropy(mc),
             "mc-mi": unc.mutual_information(mc)}
    source = {"max-softmax": "det", "mc-entropy": "mc", "mc-mi": "mc"}
    metrics: dict[str, tuple] = {
        "acc": (float(correct["det"].float().mean()), "fraction", "accuracy of the model in eval mode"),
        "acc_mc": (float(correct["mc"].float().mean()), "fraction", "accuracy of the MC-dropout mean"),
        "num_wrong": (int((~correct["det"]).sum()), "inputs", "wrong predictions in eval mode"),
        "num_right": (int(correct["det"].sum()), "inputs", "right predictions in eval mode"),
        "mean_entropy": (float(score["mc-entropy"].mean()), "nats", "mean MC-dropout predictive entropy"),
        "mean_mi": (float(score["mc-mi"].mean()), "nats", "mean MC-dropout mutual information (epistemic)"),
    }
    for s in SCORES:
        metrics[f"auroc_{s}"] = (error_auroc(score[s], correct[source[s]]), "AUROC",
                                 f"{s} telling wrong predictions from right ones (0.5 = chance)")
    curves = {s: ood.rejection_curve(score[s], correct[source[s]]) for s in SCORES}
    figure = Figure("rejection", "Accuracy vs rejection", [
        figures.lines([figures.series(s, *curves[s]) for s in SCORES], xlabel="fraction rejected (most uncertain first)",
                      ylabel="accuracy on the kept inputs")],
        caption=f"Each score rejects the inputs it finds most uncertain; MC dropout uses {mc_samples} passes.")
    return section_result("uncertainty", claim=CLAIM, module=sys.modules[__name__], metrics=metrics,
                          verdict=judge({k: v[0] for k, v in metrics.items()}), figures=[figure],
                          config={"mc_samples": mc_samples})


def error_auroc(score: Tensor, correct: Tensor) -> float | None:
    """AUROC of `score` with the wrong predictions as positives; None unless both kinds occur."""
    if correct.all() or not correct.any():
        return None
    return ood.auroc(score[correct], score[~correct])


def judge(m: Mapping[str, float | None]) -> Verdict:
    """The rule in the module docstring, over the metric values."""
    if "auroc_max-softmax" not in m:
        return Verdict("inconclusive", "Skipped: the model has no dropout module.")
    base, mc = m["auroc_max-softmax"], m["auroc_mc-entropy"]
    text = (f"Accuracy {m['acc']:.1%} ({int(m['num_wrong'])} wrong); misclassification AUROC: max softmax "
            f"{_fmt(base)}, MC-dropout entropy {_fmt(mc)}, mutual information {_fmt(m['auroc_mc-mi'])}")
    if base is None or min(m["num_wrong"], m["num_right"]) < MIN_COUNT:
        return Verdict("inconclusive", f"{text}. Fewer than {MIN_COUNT} wrong or right predictions.")
    helps = mc is not None and mc >= base + HELPS
    text += f"; MC dropout {'helps' if helps else 'does not help'}"
    if base < MAX_AUROC:
        return Verdict("holds", f"{text}. Its confidence is a weak signal of its errors.")
    return Verdict("fails", f"{text}. Its confidence separates its errors well (AUROC >= {MAX_AUROC}).")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
