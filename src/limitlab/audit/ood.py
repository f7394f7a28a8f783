"""Audit section: is this model confident on inputs unlike its data, and can its confidence flag them?

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in
neural networks. ICLR 2017, arXiv:1610.02136 (max softmax as the OOD score; AUROC). Liang et al.
ICLR 2018, arXiv:1706.02690 (FPR at 95% TPR).

Protocol: out-of-distribution sets built from the user's own data shape and bounds, up to `MAX_OOD`
inputs each: "uniform-noise" (uniform in the bounds), "shuffled-features" (given inputs with each
one's features permuted: the same values, no structure), and the bundled "glyphs" (letters and
symbols drawn like the digits) when the inputs are 1 x 8 x 8 in [0, 1]. For each set: the mean
max softmax against the given inputs', and the AUROC and FPR at 95% TPR of 1 - max softmax as the OOD
score (FPR95: the share of the set still accepted when 95% of the given inputs are).

Verdict: holds (the model is over-confident out of distribution) if on at least one set FPR95 is
>= 0.5, i.e. its confidence cannot reject half of those inputs without rejecting more than 5% of the
real ones; fails otherwise.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from limitlab import figures, ood
from limitlab.audit._common import AuditData, logits_of, section_result
from limitlab.context import Context
from limitlab.data import glyphs
from limitlab.result import Figure, Result, Verdict
from limitlab.uncertainty import max_softmax

MAX_OOD = 500
MAX_FPR = 0.5
CLAIM = ("Is this model confident on inputs unlike its data (noise, scrambled inputs), and can its "
         "max-softmax confidence tell such inputs from real ones?")


def ood_sets(data: AuditData, ctx: Context) -> dict[str, Tensor]:
    """The OOD sets for this data's shape and bounds (see the module docstring)."""
    x, (lo, hi) = data.x, data.bounds
    n = min(len(x), MAX_OOD)
    noise = lo + (hi - lo) * torch.rand((n, *x.shape[1:]), generator=ctx.generator("ood-noise"))
    pick = torch.randperm(len(x), generator=ctx.generator("ood-pick"))[:n]
    flat = x[pick].flatten(1)
    # one independent permutation per row: argsort of uniform noise, row by row
    order = torch.rand(flat.shape, generator=ctx.generator("ood-shuffle")).argsort(dim=1)
    sets = {"uniform-noise": noise, "shuffled-features": flat.gather(1, order).view_as(x[pick])}
    if tuple(x.shape[1:]) == (1, 8, 8) and lo >= 0 and hi <= 1:
        g = glyphs().x
        sets["glyphs"] = g[torch.randperm(len(g), generator=ctx.generator("ood-glyphs"))[:n]]
    return sets


def run(model: nn.Module, data: AuditData, ctx: Context) -> Result:
    """Max softmax on each OOD set vs the given inputs; AUROC and FPR95 of 1 - max softmax."""
    conf_in = max_softmax(torch.softmax(data.logits, 1))
    conf = {name: max_softmax(torch.softmax(logits_of(model, v), 1)) for name, v in ood_sets(data, ctx).items()}
    metrics: dict[str, tuple] = {"conf_in": (float(conf_in.mean()), "probability", "mean max softmax on the given inputs")}
    for name, c in conf.items():
        metrics[f"conf_{name}"] = (float(c.mean()), "probability", f"mean max softmax on {name}")
        metrics[f"auroc_{name}"] = (ood.auroc(1 - conf_in, 1 - c), "AUROC",
                                    f"1 - max softmax telling {name} from the given inputs (0.5 = chance)")
        metrics[f"fpr95_{name}"] = (ood.fpr_at_tpr(1 - conf_in, 1 - c), "fraction",
                                    f"{name} inputs accepted when 95% of the given inputs are")
    figure = Figure("confidence", "Confidence on the given inputs vs each out-of-distribution set", [
        figures.hist([{"label": "given inputs", "values": conf_in}, {"label": name, "values": c}],
                     title=f"{name} (mean {float(c.mean()):.2f})", xlabel="max softmax", bins=20, range=(0.0, 1.0))
        for name, c in conf.items()],
        caption="Normalized histograms of the model's max softmax. Mass near 1 on an OOD set: confident answers "
                "on inputs that hold nothing it was trained on.")
    return section_result("ood", claim=CLAIM, module=sys.modules[__name__], metrics=metrics,
                          verdict=judge({k: v[0] for k, v in metrics.items()}), figures=[figure],
                          config={"sets": list(conf), "max_ood": MAX_OOD})


def judge(m: Mapping[str, float | None]) -> Verdict:
    """The rule in the module docstring, over the metric values."""
    sets = [k.removeprefix("fpr95_") for k in m if k.startswith("fpr95_")]
    parts = [f"{s}: confidence {m[f'conf_{s}']:.2f}, AUROC {m[f'auroc_{s}']:.3f}, FPR95 {m[f'fpr95_{s}']:.2f}"
             for s in sets]
    text = f"Mean max softmax {m['conf_in']:.2f} on the given inputs; " + "; ".join(parts)
    accepted = [s for s in sets if m[f"fpr95_{s}"] >= MAX_FPR]
    if accepted:
        return Verdict("holds", f"{text}. Over-confident: max softmax accepts half or more of {', '.join(accepted)}.")
    return Verdict("fails", f"{text}. Max softmax rejects most of every OOD set at 95% TPR.")
