"""Audit section "ood": is this model confident on inputs unlike its data, and can any of its scores flag them?

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (max softmax as the OOD score; AUROC, AUPR-In); Liang,
Li, Srikant. ICLR 2018, arXiv:1706.02690 (FPR at 95% TPR); Liu et al. NeurIPS 2020, arXiv:2010.03759
(energy); Hendrycks et al. ICML 2022, arXiv:1911.11132 (max logit); Gal, Ghahramani. ICML 2016,
arXiv:1506.02142 (MC dropout; the mutual information of its passes as the epistemic part).

Protocol: your own OOD inputs ("yours", from `--ood FILE` or `ood=`: up to `max_ood` of them, a seeded
sample when there are more), then the sets of `limitlab.data.ood_sets` built from the given inputs and
their bounds (uniform noise in each feature's own range, the inputs with their values shuffled, and
glyphs for 1 x 8 x 8 images in [0, 1]), up to `max_ood` inputs each. Scores, higher = more OOD, from
the float64 logits (`limitlab.uncertainty.logit_scores`): max softmax, and for logit outputs energy and
max logit; for a model with dropout, the mutual information of `mc_samples` MC-dropout passes. For each
set and score: AUROC of telling the set from the given inputs; FPR at 95% TPR (the share of the set
still accepted when 95% of the given inputs are); and AUPR-In (average precision with the given inputs
as the positives; its chance level is their share of the pooled inputs), each with a bootstrap interval
that resamples the given inputs and the set independently; and, on the same resamples (paired), how
much lower each other score's FPR95 is than max softmax's. Examples: each set's inputs with the highest
max softmax.

Verdict: unreliable if the forward pass is not deterministic. Holds (over-confident out of distribution)
if on at least one set the max-softmax FPR95's 95% interval lies at or above `max_fpr` (0.5): its
confidence cannot reject half of those inputs without rejecting 5% of the real ones; fails if on every
set that interval lies below 0.5; inconclusive otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from limitlab import uncertainty as unc
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
from limitlab.audit.ood_views import (
    LABELS,
    OTHER,
    best_score,
    confidence_figure,
    examples_figure,
    ood_advice,
    score_figure,
    set_names,
    tag,
)
from limitlab.audit.outputs import to_logits
from limitlab.audit.subject import Subject, outputs_of, subject_of
from limitlab.audit.sweep import each
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.data.ood_sets import ood_sets
from limitlab.result import Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.study import AUDIT_CHAPTER, register
from limitlab.uncertainty.logit_scores import uncertainty_scores


@dataclass(frozen=True)
class OodConfig(BootstrapConfig):
    constraints: ClassVar = with_intervals(max_ood=Interval(10), max_fpr=Interval(0, 1),
                                           tpr=Interval(0, 1, closed="right"), mc_samples=Interval(2),
                                           num_examples=Interval(1))
    max_ood: int = 500
    max_fpr: float = 0.5
    tpr: float = 0.95
    mc_samples: int = 30
    num_examples: int = 8


@register("audit-ood", chapter=AUDIT_CHAPTER)
class OutOfDistribution(Section):
    """Confidence out of distribution (your set, noise, shuffled features, glyphs): see the module docstring."""

    claim = ("Is this model over-confident on inputs unlike its data (your own out-of-distribution inputs, noise, "
             "scrambled inputs), so that its confidence cannot tell such inputs from real ones?")
    Config = OodConfig
    presets = {"tiny": {"max_ood": 60, "num_bootstrap": 200, "mc_samples": 4, "num_examples": 4},
               "full": {"max_ood": 2000, "num_bootstrap": 4000, "mc_samples": 100}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        mc = bool(unc.dropout_layers(s.model))
        score_in = self.scores(s, s.x, s.logits, ctx.generator("ood", "mc-dropout", "given") if mc else None)
        w_in = weights(len(s.y), num=cfg.num_bootstrap, rng=ctx.rng("ood", "bootstrap", "in"))
        m = Metrics()
        add_trust(m, s)
        conf_in = np.exp(-score_in["max-softmax"])
        m.add("conf_in", float(conf_in.mean()), "probability", "mean max softmax on the given inputs")
        m.add("accept_conf", float(np.sort(conf_in)[::-1][math.ceil(cfg.tpr * len(conf_in) - 1e-9) - 1]),
              "probability", f"the max softmax at or above which {cfg.tpr:.0%} of the given inputs are accepted")
        confs, examples = {}, {}
        for name, x_out in self.sets(s, ctx, m).items():
            z = to_logits(outputs_of(s.raw, x_out, call="outputs", batch=s.batch_size).double(), s.kind)
            score_out = self.scores(s, x_out, z, ctx.generator("ood", "mc-dropout", name) if mc else None)
            w_out = weights(len(x_out), num=cfg.num_bootstrap, rng=ctx.rng("ood", "bootstrap", name))
            confs[name] = np.exp(-score_out["max-softmax"])
            m.add(f"conf_{name}", float(confs[name].mean()), "probability", f"mean max softmax on {name}")
            self.measure(m, name, w_in, score_in, w_out, score_out)
            top = torch.from_numpy(np.argsort(score_out["max-softmax"], kind="stable")[:cfg.num_examples])
            examples[name] = (x_out[top], z[top])
        if mc:
            m.add("mc_samples", cfg.mc_samples, "passes", "MC-dropout passes behind the mutual information")
        figs = [confidence_figure(conf_in, confs), score_figure(m, list(confs), list(score_in)),
                examples_figure(examples, s.x, s.bounds)]
        return self.result(ctx, metrics=m, figures=[f for f in figs if f is not None])

    def sets(self, s: Subject, ctx: Context, m: Metrics) -> dict:
        """Your set (a seeded sample of `max_ood` if larger) first, then the built-in ones."""
        cfg, out = self.config, {}
        if s.ood_x is not None:
            n = len(s.ood_x)
            keep = torch.randperm(n, generator=ctx.generator("ood", "yours"))[:cfg.max_ood].sort().values
            out["yours"] = s.ood_x[keep] if n > cfg.max_ood else s.ood_x
            source = Path(s.about["ood"]).name if "ood" in s.about else "passed to limitlab.audit"
            part = f"; a seeded sample of {len(keep)} of its {n} inputs" if n > cfg.max_ood else ""
            m.add("num_yours", len(out["yours"]), "inputs", f"your OOD set: {source}{part}")
        return {**out, **ood_sets(s.x, lo=s.bounds.lo, hi=s.bounds.hi, num=cfg.max_ood,
                                  generator=ctx.generator("ood-sets"))}

    def scores(self, s: Subject, x: torch.Tensor, z: torch.Tensor, mc: torch.Generator | None) -> dict:
        out = {k: v.numpy() for k, v in uncertainty_scores(z, logits=s.kind.kind == "logits").items()}
        if mc is not None:  # input chunks of batch_size: memory stays flat in N
            out["mc-mi"] = each(lambda a: unc.mutual_information(unc.mc_dropout(
                s.raw, a, samples=self.config.mc_samples, chunk_rows=s.batch_size, generator=mc).double()), x,
                batch=s.batch_size).numpy()
        return out

    def measure(self, m: Metrics, name: str, w_in, s_in: dict, w_out, s_out: dict) -> None:
        cfg, fpr = self.config, {}
        chance = len(w_in[0]) / (len(w_in[0]) + len(w_out[0]))
        for score in s_out:
            what, t = f"{LABELS[score]} telling {name} from the given inputs", tag(name, score)
            a = weighted.auroc(w_in, s_in[score], w_out, s_out[score])
            add_bootstrap(m, f"auroc_{t}", a[0], a[1:], "AUROC", f"{what} (0.5 = chance)", level=cfg.level)
            fpr[score] = weighted.fpr_at_tpr(w_in, s_in[score], w_out, s_out[score], tpr=cfg.tpr)
            add_bootstrap(m, f"fpr95_{t}", fpr[score][0], fpr[score][1:], "fraction", f"{name} accepted by "
                          f"{LABELS[score]} when {cfg.tpr:.0%} of the given inputs are", level=cfg.level)
            p = weighted.aupr(w_in, s_in[score], w_out, s_out[score], positive="in")
            add_bootstrap(m, f"aupr_{t}", p[0], p[1:], "AUPR", f"AUPR-In of {what}: the given inputs are the "
                          f"positives (chance {chance:.2f})", level=cfg.level)
        for score in (sc for sc in OTHER if sc in fpr):
            d = fpr["max-softmax"] - fpr[score]
            add_bootstrap(m, f"better_{name}_{score}", d[0], d[1:], "fraction", f"FPR95 of max softmax minus "
                          f"{LABELS[score]}'s on {name} (paired; > 0: {LABELS[score]} rejects more)", level=cfg.level)

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        sets = set_names(m)
        if not sets:
            return Verdict("inconclusive", "Not measured: no out-of-distribution set was scored.")
        text = f"Mean max softmax {shown(m, 'conf_in', '.2f')} on the given inputs; " + "; ".join(
            self.line(m, s) for s in sets)
        ivs = {s: interval(m, f"fpr95_{s}") for s in sets}
        accepted = [s for s, iv in ivs.items() if iv is not None and iv[0] >= cfg.max_fpr]
        if accepted:
            return Verdict("holds", f"{text}. Over-confident: max softmax accepts half or more of "
                                    f"{', '.join(accepted)}.")
        if all(iv is not None and iv[1] < cfg.max_fpr for iv in ivs.values()):
            return Verdict("fails", f"{text}. Max softmax rejects most of every OOD set at {cfg.tpr:.0%} TPR.")
        return Verdict("inconclusive", f"{text}. The FPR95 interval of some set straddles {cfg.max_fpr}.")

    @staticmethod
    def line(m: MetricValues, s: str) -> str:
        source = m.metric("num_yours")
        head = f"yours ({source.description.partition(': ')[2]})" if s == "yours" and source else s
        text = (f"{head}: confidence {shown(m, f'conf_{s}', '.2f')}, max softmax accepts "
                f"{shown(m, f'fpr95_{s}', '.2f')} at 95% TPR (AUROC {shown(m, f'auroc_{s}')}, AUPR-In "
                f"{shown(m, f'aupr_{s}')})")
        best = best_score(m, s)
        return text + (f", the best other score ({LABELS[best]}) accepts {shown(m, f'fpr95_{s}_{best}', '.2f')}"
                       if best else "")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        return ood_advice(verdict, m, max_fpr=self.config.max_fpr)

