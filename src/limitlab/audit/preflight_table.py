"""The pre-flight table's words: one row per check, saying what was found and what the audit does about it."""
from __future__ import annotations

from collections.abc import Mapping

from limitlab.audit._common import interval
from limitlab.audit.checks import SAMPLE
from limitlab.audit.subject import Subject
from limitlab.result import MetricValues, fmt

DOES = {
    "probabilities": "reads them as log p: the cross-entropy, the softmax and the calibration are the model's own",
    "log-probabilities": "uses them as logits (log_softmax(log p) = log p)",
    "logits": "uses them as logits",
}


def _range(s: Subject) -> str:
    lo, hi = s.bounds.lo, s.bounds.hi
    if bool((lo == lo.flatten()[0]).all() and (hi == hi.flatten()[0]).all()):
        return f"[{float(lo.flatten()[0]):g}, {float(hi.flatten()[0]):g}] for every value"
    return f"lo from {float(lo.min()):g} to {float(lo.max()):g}, hi from {float(hi.min()):g} to {float(hi.max()):g}"


def preflight_rows(s: Subject, m: MetricValues, modes: list[str], problems: Mapping[str, bool | None]) -> list[list]:
    """[check, finding, status, what the audit does] for each check."""
    kind = s.kind
    rows = [["outputs", kind.describe(), "ok" if kind.kind == "logits" and not kind.single else "note",
             ("reads (0, z) as the two classes' logits" if kind.single and kind.kind == "logits" else
              "reads (log(1 - p), log p) as the two classes' logits" if kind.single else DOES[kind.kind])]]
    share, checked = m["nondeterministic_share"] or 0.0, min(len(s.y), SAMPLE)
    rows.append(["determinism", f"{round(share * checked)} of {checked} inputs change between two eval-mode passes, "
                 "with the batch reversed, or in a batch half the size", "problem" if share > 0 else "ok",
                 "marks every section 'unreliable'" if share > 0 else "nothing to do"])
    if m["gradient_path"] == 0:
        grad = ["input gradients", "no gradient path: the loss does not depend on the input through autograd "
                "(e.g. thresholding or argmax in the forward pass)", "problem",
                "cannot run gradient attacks; runs noise and the gradient-free Square attack, verdict 'unreliable'"]
    else:
        bad = problems.get("masked input gradients")
        n, zero, nan = len(s.y), m["zero_grad_share"] or 0.0, m["nan_grad_share"] or 0.0  # both measured here
        grad = ["input gradients", f"{round(zero * n)} of {n} inputs have a zero loss gradient, "
                f"{round(nan * n)} a NaN or infinite one", "problem" if bad else "ok",
                "marks the robustness verdict 'unreliable' (gradient masking)" if bad else "nothing to do"]
    rows.append(grad)
    rows.append(["modes", ", ".join(sorted(set(modes))) + " in train mode" if modes else "every module in eval mode",
                 "note" if modes else "ok", "measures in eval mode, as deployed, and restores the modes afterwards"])
    outputs, used = int(m["num_outputs"] or 0), int(m["label_classes"] or 0)
    rows.append(["classes", f"{outputs} outputs; the labels use {used} of them", "ok" if used == outputs else "note",
                 f"takes chance as 1/{outputs}" if used != outputs else "nothing to do"])
    rows.append(["bounds", f"{s.bounds.source}: {_range(s)}", "note" if s.bounds.inferred else "ok",
                 "takes eps as a fraction of each value's range" + (" (pass --bounds to state them)"
                                                                     if s.bounds.inferred else "")])
    if s.normalize is not None:
        rows.append(["normalization", "(x - mean) / std per channel, declared with --normalize", "note",
                     "applies it inside the model and attacks x in raw units (as ART's preprocessing does)"])
    narrow = m["narrow_share"] or 0.0
    rows.append(["ranges", f"{narrow:.0%} of the features (channels, for images) cover less than a quarter of "
                 "their bounds' width with their data",
                 "problem" if narrow > 0 else "ok",
                 "eps is far larger for them than for the rest: pass per-feature bounds (--bounds FILE)" if narrow > 0
                 else "nothing to do"])
    acc, (lo, hi) = m["clean_acc"], interval(m, "clean_acc") or (None, None)
    low = problems.get("accuracy no better than the most common label")
    rows.append(["accuracy", f"{fmt(acc, '.1%')} [{fmt(lo, '.1%')}, {fmt(hi, '.1%')}]; the most common label "
                 f"is {m['majority_share']:.1%} of the data", "problem" if low else "ok",
                 "check the labels, the preprocessing (--normalize) and the weights" if low else "nothing to do"])
    return rows
