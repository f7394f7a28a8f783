"""Audit section "preflight": can this model be evaluated as given? Run first, shown first.

Croce, Hein. Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
attacks. ICML 2020, arXiv:2003.01690 (AutoAttack's checks: probability outputs, randomized forward
passes, zero gradients); Nicolae et al. Adversarial Robustness Toolbox v1.0, arXiv:1807.01069 (the
loss-gradient check: zero, NaN or infinite input gradients); Athalye, Carlini, Wagner. ICML 2018,
arXiv:1802.00420 (shattered gradients: non-differentiable preprocessing such as rounding).

Protocol: on the given inputs, the checks of `limitlab.audit.checks` and `limitlab.audit.outputs`:
what the model outputs (logits, probabilities or log-probabilities, from row sums, signs and the last
module); whether its eval-mode forward pass is deterministic (three passes, one with the batch
reversed); the share of inputs whose cross-entropy gradient is zero or NaN/Inf, and whether the loss
depends on the input through autograd at all; modules handed over in train mode; how many classes
the labels use of the model's outputs; the bounds (given or inferred) and the share of features whose
data covers less than a quarter of their bounds' width; the clean accuracy against always answering
the most common label. The table says what the audit does about each finding.

Verdict: holds (a problem that makes part of the audit untrustworthy is found) if the forward pass is
not deterministic, or more than `max_bad_gradients` (1%) of the inputs have a zero or NaN/Inf loss
gradient, or the loss has no gradient path to the input at all, or some feature's data covers less than a
quarter of its bounds' width, or the clean accuracy's 95% interval does not lie above the share of the
most common label; fails (nothing found) otherwise. Adaptations (probabilities read as log p, modules
switched to eval mode, inferred bounds) are said in the evidence; they are not problems.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from limitlab.audit import checks
from limitlab.audit._common import IntervalConfig, Section, add_share, add_trust, interval
from limitlab.audit.subject import subject_of
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.result import Metrics, MetricValues, Result, Table, Verdict
from limitlab.study import AUDIT_CHAPTER, register


@dataclass(frozen=True)
class PreflightConfig(IntervalConfig):
    constraints: ClassVar = {**IntervalConfig.constraints, "max_bad_gradients": Interval(0, 1)}
    max_bad_gradients: float = checks.MAX_BAD_GRADIENTS  # inputs with a zero or NaN loss gradient: more is a problem


@register("audit-preflight", chapter=AUDIT_CHAPTER)
class Preflight(Section):
    """Pre-flight checks (AutoAttack's checks.py; ART's loss_gradient_check): see the module docstring."""

    claim = ("Does something about this model or its data make part of the audit untrustworthy: random or "
             "batch-dependent outputs, masked gradients, bounds that do not fit the data, chance accuracy?")
    Config = PreflightConfig
    presets = {"tiny": {}, "full": {}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        grads, kind = checks.gradient_health(s), s.kind
        modes = checks.train_mode_modules(s.model)
        used = torch.unique(s.y)
        majority = float(torch.bincount(s.y).max()) / len(s.y)
        correct = s.logits.argmax(1) == s.y
        m = Metrics()
        m.add("num_inputs", len(s.y), "inputs", "inputs audited")
        m.add("outputs_probabilities", float(kind.kind == "probabilities"), "flag", "1: outputs read as probabilities")
        m.add("outputs_log_probabilities", float(kind.kind == "log-probabilities"), "flag",
              "1: outputs read as log-probabilities")
        m.add("single_output", float(kind.single), "flag", "1: one output per input (a binary model)")
        add_trust(m, s)
        m.add("zero_grad_share", grads["zero"], "fraction", "inputs whose loss gradient w.r.t. the input is exactly 0")
        m.add("nan_grad_share", grads["nan"], "fraction", "inputs whose loss gradient has a NaN or infinite entry")
        m.add("gradient_path", grads["path"], "flag", "1: the loss depends on the input through autograd")
        m.add("train_mode_modules", len(modes), "modules", "dropout / batch-norm modules handed over in train mode")
        m.add("num_outputs", s.num_classes, "classes", "classes the model scores")
        m.add("label_classes", len(used), "classes", "classes the labels use")
        m.add("bounds_inferred", float(s.bounds.inferred), "flag", "1: bounds inferred from the data")
        m.add("narrow_share", checks.narrow_share(s), "fraction",
              f"features whose data covers < {checks.NARROW:.0%} of their bounds' width")
        add_share(m, "clean_acc", correct, "accuracy on the given inputs", level=cfg.level)
        m.add("majority_share", majority, "fraction", "accuracy of always answering the most common label")
        return self.result(ctx, metrics=m, tables=[self.table(s, m.view(), modes)])

    def problems(self, m: MetricValues) -> dict[str, bool | None]:
        """Each problem check: True if found, None if not measured."""
        bad = None if m["zero_grad_share"] is None or m["nan_grad_share"] is None else (
            m["zero_grad_share"] + m["nan_grad_share"] > self.config.max_bad_gradients and m["gradient_path"] == 1)
        acc = interval(m, "clean_acc")
        chance = None if acc is None or m["majority_share"] is None else acc[0] <= m["majority_share"]
        return {"random forward pass": None if m["nondeterministic_share"] is None else m["nondeterministic_share"] > 0,
                "no input gradient path": None if m["gradient_path"] is None else m["gradient_path"] == 0,
                "masked input gradients": bad,
                "bounds wider than the data": None if m["narrow_share"] is None else m["narrow_share"] > 0,
                "accuracy no better than the most common label": chance}

    def judge(self, m: MetricValues) -> Verdict:
        found = self.problems(m)
        unknown = [k for k, v in found.items() if v is None]
        notes = [text for key, text in (("outputs_probabilities", "probabilities read as log p"),
                                        ("outputs_log_probabilities", "log-probabilities used as logits"),
                                        ("single_output", "one output per input read as a binary model"),
                                        ("bounds_inferred", "bounds inferred from the data")) if m[key]]
        if m["train_mode_modules"]:
            notes.append(f"{int(m['train_mode_modules'])} module(s) handed over in train mode, measured in eval mode")
        tail = f" Adapted: {'; '.join(notes)}." if notes else ""
        hits = [k for k, v in found.items() if v]
        if hits:
            return Verdict("holds", f"Found: {', '.join(hits)}.{tail}")
        if unknown:
            return Verdict("inconclusive", f"Not measured: {', '.join(unknown)}.{tail}")
        return Verdict("fails", f"No problem found: deterministic, input gradients present, bounds fit the data, "
                                f"accuracy above the most common label's share.{tail}")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        from limitlab.audit import advice

        return advice.preflight(verdict, m, self.problems(m))

    def table(self, s, m: MetricValues, modes: list[str]) -> Table:
        from limitlab.audit.preflight_table import preflight_rows

        return Table("Pre-flight checks", ["check", "finding", "status", "what the audit does"],
                     preflight_rows(s, m, modes, self.problems(m)),
                     caption="status: ok; note (the audit adapts, and says so); problem (numbers that depend on it "
                             "are marked unreliable or doubtful).")


__all__ = ["Preflight", "PreflightConfig"]
