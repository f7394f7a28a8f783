"""Audit section "uncertainty": does this model know when it is wrong?

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (max softmax; misclassification detection AUROC);
Liu et al. NeurIPS 2020, arXiv:2010.03759 (energy); Hendrycks et al. ICML 2022, arXiv:1911.11132 (max
logit); Geifman, El-Yaniv. NeurIPS 2017, arXiv:1705.08500 (accuracy vs rejection); Gal, Ghahramani.
ICML 2016, arXiv:1506.02142 (MC dropout: predictive entropy and mutual information over T passes).

Protocol: for every model, the scores of `limitlab.uncertainty.logit_scores` from the float64 logits
(max softmax, and energy and max logit when the outputs are logits: from probabilities they are not
defined); for a model with dropout, also MC dropout's predictive entropy and mutual information over
`mc_samples` passes (judged on the MC mean's predictions). Each score's misclassification AUROC is the
chance that a wrong prediction scores as more uncertain than a right one, with a bootstrap interval
over inputs; its rejection curve is the accuracy on the inputs kept after rejecting the most uncertain.

Verdict: unreliable if the forward pass is not deterministic; inconclusive with fewer than `min_count`
(5) wrong or right predictions; holds (its confidence is a weak signal of its errors) if the
max-softmax AUROC's 95% interval lies below `max_auroc` (0.9); fails if it lies above; inconclusive if
it straddles 0.9. The evidence says whether MC dropout helps (the paired interval of its entropy's
AUROC minus max softmax's lies above 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from limitlab import figures, ood
from limitlab import uncertainty as unc
from limitlab.audit._common import (
    BootstrapConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    compare,
    interval,
    shown,
    untrusted,
    weights,
    with_intervals,
)
from limitlab.audit.subject import subject_of
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.study import AUDIT_CHAPTER, register
from limitlab.uncertainty.logit_scores import uncertainty_scores


@dataclass(frozen=True)
class UncertaintyConfig(BootstrapConfig):
    constraints: ClassVar = with_intervals(mc_samples=Interval(2), max_auroc=Interval(0, 1), min_count=Interval(1))
    mc_samples: int = 30
    max_auroc: float = 0.9
    min_count: int = 5


def error_auroc(w: np.ndarray, score: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Per row of weights, AUROC of `score` with the wrong predictions as the positives."""
    return weighted.auroc(w[:, correct], score[correct], w[:, ~correct], score[~correct])


@register("audit-uncertainty", chapter=AUDIT_CHAPTER)
class Uncertainty(Section):
    """Misclassification detection by confidence scores and MC dropout: see the module docstring."""

    claim = ("Is this model's confidence a weak signal of its own errors: do its wrong answers fail to score as "
             "more uncertain than its right ones, and does MC dropout tell them apart better?")
    Config = UncertaintyConfig
    presets = {"tiny": {"mc_samples": 4, "num_bootstrap": 200}, "full": {"mc_samples": 100, "num_bootstrap": 4000}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        scores = uncertainty_scores(s.logits, logits=s.kind.kind == "logits")
        correct = {name: (s.logits.argmax(1) == s.y).numpy() for name in scores}
        if unc.dropout_layers(s.model):
            mc = unc.mc_dropout(s.raw, s.x, samples=cfg.mc_samples, generator=ctx.generator("mc-dropout"))
            mc_right = (mc.mean(0).argmax(1) == s.y).numpy()
            mc = mc.double()
            scores.update({"mc-entropy": unc.predictive_entropy(mc), "mc-mi": unc.mutual_information(mc)})
            correct.update({"mc-entropy": mc_right, "mc-mi": mc_right})
        w = weights(len(s.y), num=cfg.num_bootstrap, rng=ctx.rng("uncertainty", "bootstrap"))
        right = correct["max-softmax"]
        m = Metrics()
        add_trust(m, s)
        add_share(m, "acc", right, "accuracy in eval mode", level=cfg.level)
        m.add("num_wrong", int((~right).sum()), "inputs", "wrong predictions")
        m.add("num_right", int(right.sum()), "inputs", "right predictions")
        enough = min(int((~right).sum()), int(right.sum())) > 0
        aurocs = {}
        for name, score in scores.items():
            ok = correct[name]
            if 0 < ok.sum() < len(ok) and enough:
                aurocs[name] = error_auroc(w, score.numpy(), ok)
                add_bootstrap(m, f"auroc_{name}", aurocs[name][0], aurocs[name][1:], "AUROC",
                              f"{name} telling wrong predictions from right ones (0.5 = chance)", level=cfg.level)
        if "mc-entropy" in aurocs and "max-softmax" in aurocs:
            diff = aurocs["mc-entropy"] - aurocs["max-softmax"]
            add_bootstrap(m, "mc_gain", diff[0], diff[1:], "AUROC", "MC-dropout entropy's AUROC minus max softmax's "
                          "(paired)", level=cfg.level)
        lines = [figures.series(name, *ood.rejection_curve(scores[name], correct[name])) for name in scores]
        figure = Figure("rejection", "Accuracy vs rejection", [figures.lines(
            lines, xlabel="fraction rejected (most uncertain first)", ylabel="accuracy on the kept inputs")],
            caption="Each score rejects the inputs it finds most uncertain. A flat line: the score does not know when "
                    "the model is wrong." + (f" MC dropout: {cfg.mc_samples} passes." if "mc-entropy" in scores
                                             else ""))
        return self.result(ctx, metrics=m, figures=[figure])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        names = [k.removeprefix("auroc_") for k in m if k.startswith("auroc_")]
        text = (f"Accuracy {shown(m, 'acc', '.1%')} ({int(m['num_wrong'] or 0)} wrong); misclassification AUROC: "
                + ", ".join(f"{n} {shown(m, f'auroc_{n}')}" for n in names))
        gain = interval(m, "mc_gain")
        if gain is not None:
            text += "; MC dropout helps" if gain[0] > 0 else "; MC dropout does not help measurably"
        if m["num_wrong"] is None or min(m["num_wrong"], m["num_right"] or 0) < cfg.min_count:
            return Verdict("inconclusive", f"{text}. Fewer than {cfg.min_count} wrong or right predictions.")
        above = compare(m, "auroc_max-softmax", cfg.max_auroc)
        if above is None:
            return Verdict("inconclusive", f"{text}. The max-softmax AUROC's interval straddles {cfg.max_auroc}.")
        if above:
            return Verdict("fails", f"{text}. Its confidence separates its errors well (AUROC above {cfg.max_auroc}).")
        return Verdict("holds", f"{text}. Its confidence is a weak signal of its errors (AUROC below {cfg.max_auroc}).")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        from limitlab.audit import advice

        return advice.uncertainty(verdict, m)
