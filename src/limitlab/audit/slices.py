"""Audit section "slices": is some class, or some group of inputs, left behind by this model?

Buolamwini, Gebru. Gender shades. FAT* 2018 (accuracy per subgroup, not only on average); Sagawa,
Koh, Hashimoto, Liang. Distributionally robust neural networks. ICLR 2020, arXiv:1911.08731 (the
worst group's accuracy); the subgroup checks of Deepchecks (per-class performance, weak segments) and
Giskard (performance bias); Newcombe. Statistics in Medicine 1998 (the interval of a difference of
proportions); Guo et al. ICML 2017 (ECE); Madry et al. ICLR 2018 (PGD with restarts).

Protocol: the slices are the classes (the inputs of each true label) and, with `--groups`, the groups.
Per slice: the accuracy (Clopper-Pearson); its gap to the rest of the inputs (the rest's accuracy
minus the slice's) with Newcombe's hybrid score interval; the top-label ECE on the slice's inputs
(bootstrap interval, and the noise floor of `limitlab.calibration.noise_floor` on its confidences);
the PGD success at `eps` (the share of its correctly classified inputs that PGD flips: the robustness
section's attack, `pgd_restarts` random restarts of `pgd_steps` steps in the unit box of the bounds,
so eps is a fraction of each value's range; not run without an input gradient). A slice with fewer
than `min_inputs` (20) inputs is shown and not judged: its interval would straddle any gap.
Multiple comparisons: the worst slice is picked after looking at all K judged slices (classes and
groups together), so each gap interval is taken at the Bonferroni level 1 - (1 - level) / K; all K
cover their gaps at once with probability >= level, the picked one included.

Verdict: unreliable if the forward pass is not deterministic; inconclusive with fewer than two judged
slices. Holds (a slice is left behind) if some judged slice's adjusted gap interval lies wholly above
`gap` (0.1: ten points of accuracy is a difference a user of that slice would notice, and on test sets
of a few hundred inputs, slices of a few dozen cannot resolve much less); fails if every judged
slice's adjusted interval lies wholly below `gap`; inconclusive otherwise. ECE and PGD success per
slice are evidence (the worst named), not part of the rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from limitlab.attacks.restarts import pgd_restarts
from limitlab.audit import checks
from limitlab.audit._common import (
    PGDConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    compare,
    interval,
    shown,
    untrusted,
    weights,
)
from limitlab.audit.advice import UNRELIABLE
from limitlab.audit.slices_views import CARDS, gap_words, label, slices_figure, slices_table, value, worst
from limitlab.audit.subject import Subject, subject_of
from limitlab.audit.sweep import survivors
from limitlab.calibration.noise_floor import ece_noise_floor
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.result import Metrics, MetricValues, Result, Verdict
from limitlab.stats import weighted
from limitlab.stats.difference import newcombe
from limitlab.study import AUDIT_CHAPTER, register

FRACTION = Interval(0, 1, closed="right")
FAMILIES = ("class", "group")


@dataclass(frozen=True)
class SlicesConfig(PGDConfig):
    constraints: ClassVar = {**PGDConfig.constraints, "gap": FRACTION, "min_inputs": Interval(2), "eps": FRACTION,
                             "bins": Interval(1), "noise_draws": Interval(1)}
    gap: float = 0.1
    min_inputs: int = 20
    eps: float = 0.1  # one of the robustness section's stated eps (a fraction of each value's range)
    bins: int = 15
    noise_draws: int = 200


def families(s: Subject) -> dict[str, tuple[torch.Tensor, list[str]]]:
    """Slice codes per input and the slices' names: the classes, and the groups when given."""
    out = {"class": (s.y, [str(k) for k in range(s.num_classes)])}
    if s.groups is not None:
        out["group"] = (s.groups, [repr(g) for g in s.group_names])
    return out


@register("audit-slices", chapter=AUDIT_CHAPTER)
class Slices(Section):
    """Per-class and per-group accuracy, ECE and attack success, the worst slice named: see the module."""

    claim = ("Is some class, or some group of inputs, left behind: is its accuracy more than 10 points below the "
             "rest's, beyond what picking the worst of many slices explains?")
    Config = SlicesConfig
    presets = {"tiny": {"pgd_steps": 5, "pgd_restarts": 1, "num_bootstrap": 200, "noise_draws": 50},
               "full": {"pgd_steps": 40, "pgd_restarts": 8, "num_bootstrap": 4000}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        conf, pred = torch.softmax(s.logits, 1).max(1)
        right = (pred == s.y).numpy()
        grads = checks.gradient_health(s)
        fooled = self.attack(s, ctx) if grads["path"] == 1 else None
        fams = families(s)
        slices = [(f, k, codes == k) for f, (codes, _) in fams.items() for k in range(int(codes.max()) + 1)
                  if bool((codes == k).any())]
        judged = sum(int(mask.sum()) >= cfg.min_inputs for *_, mask in slices)
        adjusted = 1 - (1 - cfg.level) / max(judged, 1)
        m = Metrics()
        add_trust(m, s)
        add_share(m, "acc", right, "accuracy on every input", level=cfg.level)
        m.add("num_judged", judged, "slices", f"slices with >= {cfg.min_inputs} inputs (classes and groups)")
        m.add("adjusted_level", adjusted, "", "the Bonferroni level of each gap interval: 1 - (1 - level) / K")
        if fooled is not None:
            add_share(m, "attack", fooled[right], f"PGD success at eps {cfg.eps:g} on the correct inputs",
                      level=cfg.level)
            m.add("bad_grad_share", grads["zero"] + grads["nan"], "fraction", "inputs with a zero or NaN/Inf loss "
                  "gradient (more than 1%: PGD success is a lower bound)")
        for f, k, mask in slices:
            self.measure(m, ctx, f"{f}_{k}", f"{f} {fams[f][1][k]}", mask.numpy(), right, conf.numpy(),
                         fooled, adjusted)
        v = m.view()
        return self.result(ctx, metrics=m, figures=[slices_figure(v, min_inputs=cfg.min_inputs, eps=cfg.eps,
                                                                   level=cfg.level)],
                           tables=[slices_table(v, min_inputs=cfg.min_inputs, eps=cfg.eps, gap=cfg.gap)])

    def attack(self, s: Subject, ctx: Context) -> np.ndarray:
        """Per input: correct clean, and wrong after PGD with restarts at eps (in the unit box)."""
        cfg, gen = self.config, ctx.generator("slices", "pgd")
        after = survivors(s.unit, lambda a, t: pgd_restarts(s.unit, a, t, eps=cfg.eps, steps=cfg.pgd_steps,
                                                            restarts=cfg.pgd_restarts, step_ratio=cfg.step_ratio,
                                                            generator=gen), s.u, s.y, batch=s.batch_size)
        return ((s.logits.argmax(1) == s.y) & ~after).numpy()

    def measure(self, m: Metrics, ctx: Context, key: str, name: str, mask: np.ndarray, right: np.ndarray,
                conf: np.ndarray, fooled: np.ndarray | None, adjusted: float) -> None:
        """Slice `key`'s numbers, `name` ("class 3", "group 'north'") in their descriptions (the report's words)."""
        cfg, n = self.config, int(mask.sum())
        m.add(f"n_{key}", n, "inputs", f"inputs in {name}")
        add_share(m, f"acc_{key}", right[mask], f"accuracy on {name}", level=cfg.level)
        rest = ~mask
        if rest.any():
            gap, lo, hi = newcombe(int(right[rest].sum()), int(rest.sum()), int(right[mask].sum()), n, level=adjusted)
            m.add(f"gap_{key}", float(gap), "fraction", f"accuracy of the other inputs minus that on {name}",
                  interval=(float(lo), float(hi)) if n >= cfg.min_inputs else None)
        w = weights(n, num=cfg.num_bootstrap, rng=ctx.rng("slices", "bootstrap", key))
        e = weighted.ece(w, conf[mask], right[mask], bins=cfg.bins)
        noise = ece_noise_floor(torch.from_numpy(conf[mask]), bins=cfg.bins, num=cfg.noise_draws,
                                generator=ctx.generator("slices", "noise", key)).mean()
        add_bootstrap(m, f"ece_{key}", e[0], e[1:], "probability", f"top-label ECE on {name}", level=cfg.level,
                      noise=float(noise))
        if fooled is not None and right[mask].any():
            add_share(m, f"attack_{key}", fooled[mask & right], f"PGD success at eps {cfg.eps:g} on the correct "
                      f"inputs of {name}", level=cfg.level)

    def behind(self, m: MetricValues) -> dict[str, bool | None]:
        """Per judged slice (its key, e.g. "class_3"): True if left behind, False if not, None if undecided."""
        keys = [k.removeprefix("gap_") for k in m if k.startswith("gap_") and interval(m, k) is not None]
        return {k: compare(m, f"gap_{k}", self.config.gap) for k in keys}

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        found = self.behind(m)
        text = "; ".join([f"Accuracy {shown(m, 'acc', '.1%')} overall", *filter(None, (worst(m, f) for f in FAMILIES))])
        if len(found) < 2:
            return Verdict("inconclusive", f"{text}. Fewer than two slices with at least {cfg.min_inputs} inputs.")
        hits = [label(m, k) for k, v in found.items() if v]
        if hits:
            return Verdict("holds", f"{text}. Left behind (accuracy gap above {cfg.gap:g} at the adjusted level "
                                    f"{m['adjusted_level']:.4f}): {', '.join(hits)}.")
        if all(v is False for v in found.values()):
            return Verdict("fails", f"{text}. Every slice's gap lies below {cfg.gap:g}.")
        straddle = [label(m, k) for k, v in found.items() if v is None]
        return Verdict("inconclusive", f"{text}. The gap interval of {', '.join(straddle[:5])}"
                                       f"{' and others' if len(straddle) > 5 else ''} straddles {cfg.gap:g}.")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        cfg = self.config
        if verdict.status == "unreliable":
            return UNRELIABLE
        found = self.behind(m)
        hits = [k for k, v in found.items() if v]
        if hits:
            cards = [CARDS[f] for f in FAMILIES if any(k.startswith(f) for k in hits)]
            return " ".join([f"{'; '.join(gap_words(m, k) for k in hits[:3])}.", *cards])
        undecided = [k for k, v in found.items() if v is None]
        if verdict.status == "inconclusive" and undecided:
            k = max(undecided, key=lambda key: value(m, f"gap_{key}"))
            return (f"Undecided: {gap_words(m, k)}, an interval that straddles {cfg.gap:g}. An interval's width "
                    f"shrinks as 1 / sqrt(n): about four times as many test inputs of {label(m, k)} would halve it.")
        return (f"Give at least {cfg.min_inputs} test inputs per class (or group) so that the slices can be compared."
                if verdict.status == "inconclusive" else "")
