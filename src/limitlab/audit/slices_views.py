"""The slices section's words, figure and table, all read back from its metrics (`acc_class_3`, `gap_group_1`, ...)."""
from __future__ import annotations

import math

from limitlab import figures
from limitlab.audit._common import compare, interval, shown
from limitlab.audit.checks import MAX_BAD_GRADIENTS
from limitlab.result import Figure, MetricValues, Table

MAX_SHOWN = 20  # bars per panel: beyond it, the slices with the largest gaps
CARDS = {  # what to try for a slice left behind, by family
    "class": "For a class: look at its training examples first (how many there are, whether their labels are right, "
             "which class its inputs are taken for), then collect or up-weight them (a class-balanced or re-weighted "
             "loss) and audit again.",
    "group": "For a group: train with group-balanced sampling or group DRO (Sagawa et al. 2020, which minimizes the "
             "worst group's loss); report the worst group's accuracy beside the average.",
}


def label(m: MetricValues, key: str) -> str:
    """The slice's name as the report says it ("class 3", "group 'north'")."""
    metric = m.metric(f"acc_{key}")
    return metric.description.removeprefix("accuracy on ") if metric else key


def gap_words(m: MetricValues, key: str) -> str:
    return (f"{label(m, key)} has accuracy {shown(m, f'acc_{key}', '.1%')} on {int(m[f'n_{key}'] or 0)} inputs, "
            f"{shown(m, f'gap_{key}')} below the rest")


def slice_keys(m: MetricValues, family: str) -> list[str]:
    return [k.removeprefix("acc_") for k in m if k.startswith(f"acc_{family}_")]


def value(m: MetricValues, name: str) -> float:
    """The metric's value for sorting: -inf when not measured."""
    v = m[name]
    return -math.inf if v is None else v


def _largest(m: MetricValues, keys: list[str], prefix: str) -> str:
    return max(keys, key=lambda k: value(m, f"{prefix}_{k}"))


def worst(m: MetricValues, family: str) -> str:
    """The slice of `family` with the largest accuracy gap, and those with the highest ECE and PGD success."""
    keys = slice_keys(m, family)
    if not any(m[f"gap_{k}"] is not None for k in keys):
        return ""
    g, e = _largest(m, keys, "gap"), _largest(m, keys, "ece")
    text = (f"worst {family}: {label(m, g)} ({int(m[f'n_{g}'] or 0)} inputs), accuracy {shown(m, f'acc_{g}', '.1%')}, "
            f"gap to the rest {shown(m, f'gap_{g}')}; highest ECE: {label(m, e)}, {shown(m, f'ece_{e}')}")
    hit = [k for k in keys if m[f"attack_{k}"] is not None]
    if hit:
        a = _largest(m, hit, "attack")
        text += f"; most attackable: {label(m, a)}, PGD flips {shown(m, f'attack_{a}', '.0%')} of its correct inputs"
        if (m["bad_grad_share"] or 0.0) > MAX_BAD_GRADIENTS:
            text += (f" (a lower bound: {m['bad_grad_share']:.0%} of the inputs have a zero or NaN loss gradient, "
                     "see the robustness section)")
    return text


def _shown_keys(m: MetricValues, family: str) -> list[str]:
    keys = slice_keys(m, family)
    if len(keys) <= MAX_SHOWN:
        return keys
    return sorted(keys, key=lambda k: -value(m, f"gap_{k}"))[:MAX_SHOWN]


def _bar(m: MetricValues, keys: list[str], prefix: str, name: str) -> dict:
    values = [m[f"{prefix}_{k}"] or 0.0 for k in keys]
    ivs = [interval(m, f"{prefix}_{k}") or (v, v) for k, v in zip(keys, values)]
    return {"label": name, "values": values, "err": [[max(v - lo, 0.0) for v, (lo, _) in zip(values, ivs)],
                                                     [max(hi - v, 0.0) for v, (_, hi) in zip(values, ivs)]]}


def slices_figure(m: MetricValues, *, min_inputs: int, eps: float, level: float) -> Figure:
    panels = []
    for family in ("class", "group"):
        keys = _shown_keys(m, family)
        if not keys:
            continue
        names = [label(m, k).removeprefix(f"{family} ").strip("'") + ("*" if (m[f"n_{k}"] or 0) < min_inputs else "")
                 for k in keys]
        more = len(slice_keys(m, family)) - len(keys)
        tail = f" (the {len(keys)} largest gaps)" if more else ""
        panels.append(figures.bars(names, [_bar(m, keys, "acc", "accuracy")], ylim=(0, 1.05), ylabel="accuracy",
                                   title=f"accuracy per {family}{tail}"))
        if any(m[f"attack_{k}"] is not None for k in keys):
            panels.append(figures.bars(names, [_bar(m, keys, "attack", "PGD success")], ylim=(0, 1.05),
                                       ylabel="share of its correct inputs",
                                       title=f"PGD success per {family} at eps {eps:g}"))
        panels.append(figures.bars(names, [_bar(m, keys, "ece", "ECE")], ylabel="ECE", title=f"ECE per {family}"))
    return Figure("slices", "Accuracy, attack success and calibration per slice", panels,
                  caption=f"Bars: the value on that slice's inputs; whiskers: its {level:.0%} interval "
                          f"(Clopper-Pearson for accuracy and PGD success, among the correct inputs; bootstrap for "
                          f"ECE). * fewer than {min_inputs} inputs: shown, not judged. Overall accuracy "
                          f"{shown(m, 'acc', '.1%')}.")


def slices_table(m: MetricValues, *, min_inputs: int, eps: float, gap: float) -> Table:
    rows = []
    for family in ("class", "group"):
        for k in slice_keys(m, family):
            metric = m.metric(f"ece_{k}")
            floor = f" (floor {metric.noise:.3f})" if metric and metric.noise is not None else ""
            judged = interval(m, f"gap_{k}") is not None
            verdict = {True: "yes", False: "no", None: "undecided"}[compare(m, f"gap_{k}", gap)] if judged else \
                f"not judged (< {min_inputs} inputs)"
            rows.append([label(m, k), int(m[f"n_{k}"] or 0), shown(m, f"acc_{k}", ".1%"), shown(m, f"gap_{k}"),
                         shown(m, f"ece_{k}") + floor, shown(m, f"attack_{k}", ".0%"), verdict])
    return Table("Per slice", ["slice", "inputs", "accuracy", "gap to the rest", "ECE", f"PGD success at eps {eps:g}",
                               f"left behind (gap > {gap:g})"], rows,
                 caption=f"Gap intervals at the Bonferroni-adjusted level {m['adjusted_level'] or 0:.4f} (over "
                         f"{int(m['num_judged'] or 0)} judged slices), Newcombe's hybrid score interval; accuracy "
                         "and PGD success (among the slice's correct inputs): Clopper-Pearson; ECE: bootstrap, with "
                         "the ECE a calibrated model with the same confidences shows on that many inputs.")
