"""Audit section "ood": is this model confident on inputs unlike its data, and can its confidence flag them?

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (max softmax as the OOD score; AUROC); Liang, Li,
Srikant. ICLR 2018, arXiv:1706.02690 (FPR at 95% TPR); Liu et al. NeurIPS 2020, arXiv:2010.03759
(energy); Hendrycks et al. ICML 2022, arXiv:1911.11132 (max logit).

Protocol: the OOD sets of `limitlab.data.ood_sets` built from the given inputs and their bounds (uniform
noise in each feature's own range, the inputs with their values shuffled, and glyphs for 1 x 8 x 8
images in [0, 1]), up to `max_ood` inputs each. Scores from the float64 logits
(`limitlab.uncertainty.logit_scores`: max softmax, and energy and max logit for logit outputs). For
each set and score: AUROC of telling the set from the given inputs, and FPR at 95% TPR (the share of
the set still accepted when 95% of the given inputs are), each with a bootstrap interval that resamples
the given inputs and the set independently.

Verdict: unreliable if the forward pass is not deterministic. Holds (over-confident out of distribution)
if on at least one set the max-softmax FPR95's 95% interval lies at or above `max_fpr` (0.5): its
confidence cannot reject half of those inputs without rejecting 5% of the real ones; fails if on every
set that interval lies below 0.5; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from limitlab import figures
from limitlab.audit._common import (
    BootstrapConfig,
    Section,
    add_bootstrap,
    add_trust,
    interval,
    shown,
    untrusted,
    weights,
    with_intervals,
)
from limitlab.audit.outputs import to_logits
from limitlab.audit.subject import outputs_of, subject_of
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.data.ood_sets import ood_sets
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.study import AUDIT_CHAPTER, register
from limitlab.uncertainty.logit_scores import uncertainty_scores


@dataclass(frozen=True)
class OodConfig(BootstrapConfig):
    constraints: ClassVar = with_intervals(max_ood=Interval(10), max_fpr=Interval(0, 1),
                                           tpr=Interval(0, 1, closed="right"))
    max_ood: int = 500
    max_fpr: float = 0.5
    tpr: float = 0.95


@register("audit-ood", chapter=AUDIT_CHAPTER)
class OutOfDistribution(Section):
    """Confidence out of distribution (noise, shuffled features, glyphs): see the module docstring."""

    claim = ("Is this model over-confident on inputs unlike its data (noise, scrambled inputs), so that its "
             "confidence cannot tell such inputs from real ones?")
    Config = OodConfig
    presets = {"tiny": {"max_ood": 60, "num_bootstrap": 200}, "full": {"max_ood": 2000, "num_bootstrap": 4000}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        logits_ok = s.kind.kind == "logits"
        score_in = {k: v.numpy() for k, v in uncertainty_scores(s.logits, logits=logits_ok).items()}
        sets = ood_sets(s.x, lo=s.bounds.lo, hi=s.bounds.hi, num=cfg.max_ood, generator=ctx.generator("ood-sets"))
        w_in = weights(len(s.y), num=cfg.num_bootstrap, rng=ctx.rng("ood", "bootstrap", "in"))
        m = Metrics()
        add_trust(m, s)
        m.add("conf_in", float(torch.exp(-torch.from_numpy(score_in["max-softmax"])).mean()), "probability",
              "mean max softmax on the given inputs")
        panels = []
        for name, x_out in sets.items():
            z = to_logits(outputs_of(s.raw, x_out, call="outputs").double(), s.kind)
            score_out = {k: v.numpy() for k, v in uncertainty_scores(z, logits=logits_ok).items()}
            w_out = weights(len(x_out), num=cfg.num_bootstrap, rng=ctx.rng("ood", "bootstrap", name))
            conf_out = torch.exp(-torch.from_numpy(score_out["max-softmax"]))
            m.add(f"conf_{name}", float(conf_out.mean()), "probability", f"mean max softmax on {name}")
            for score, values in score_out.items():
                tag = name if score == "max-softmax" else f"{name}_{score}"
                a = weighted.auroc(w_in, score_in[score], w_out, values)
                add_bootstrap(m, f"auroc_{tag}", a[0], a[1:], "AUROC", f"{score} telling {name} from the given "
                              "inputs (0.5 = chance)", level=cfg.level)
                f = weighted.fpr_at_tpr(w_in, score_in[score], w_out, values, tpr=cfg.tpr)
                add_bootstrap(m, f"fpr95_{tag}", f[0], f[1:], "fraction", f"{name} accepted by {score} when "
                              f"{cfg.tpr:.0%} of the given inputs are", level=cfg.level)
            panels.append(figures.hist([{"label": "given inputs", "values": torch.exp(-torch.from_numpy(
                score_in["max-softmax"]))}, {"label": name, "values": conf_out}], title=f"{name} (mean "
                f"{float(conf_out.mean()):.2f})", xlabel="max softmax", bins=20, range=(0.0, 1.0)))
        figure = Figure("confidence", "Confidence on the given inputs vs each out-of-distribution set", panels,
                        caption="Normalized histograms of the model's max softmax. Mass near 1 on an OOD set: "
                                "confident answers on inputs that hold nothing it was trained on.")
        return self.result(ctx, metrics=m, figures=[figure])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        sets = [k.removeprefix("fpr95_") for k in m if k.startswith("fpr95_") and k.count("_") == 1]
        if not sets:
            return Verdict("inconclusive", "Not measured: no out-of-distribution set was scored.")
        text = f"Mean max softmax {shown(m, 'conf_in', '.2f')} on the given inputs; " + "; ".join(
            f"{s}: confidence {shown(m, f'conf_{s}', '.2f')}, AUROC {shown(m, f'auroc_{s}')}, FPR95 "
            f"{shown(m, f'fpr95_{s}', '.2f')}" for s in sets)
        ivs = {s: interval(m, f"fpr95_{s}") for s in sets}
        accepted = [s for s, iv in ivs.items() if iv is not None and iv[0] >= cfg.max_fpr]
        if accepted:
            return Verdict("holds", f"{text}. Over-confident: max softmax accepts half or more of "
                                    f"{', '.join(accepted)}.")
        if all(iv is not None and iv[1] < cfg.max_fpr for iv in ivs.values()):
            return Verdict("fails", f"{text}. Max softmax rejects most of every OOD set at {cfg.tpr:.0%} TPR.")
        return Verdict("inconclusive", f"{text}. The FPR95 interval of some set straddles {cfg.max_fpr}.")
