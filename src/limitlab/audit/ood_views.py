"""The OOD section's figures and advice: confidence per set, each score's FPR95 and AUROC per set, and the inputs of
each set the model accepts most confidently (images as a grid; table rows as how far each feature lies
from the data, in units of its range)."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from limitlab import figures
from limitlab.audit._common import interval
from limitlab.audit.bounds import Bounds
from limitlab.result import Figure, Metrics, MetricValues, Verdict

OTHER = ("energy", "max-logit", "mc-mi")  # the scores compared with max softmax
LABELS = {"max-softmax": "max softmax", "energy": "energy", "max-logit": "max logit", "mc-mi": "MC-dropout MI"}


def confidence_figure(conf_in: np.ndarray, confs: dict[str, np.ndarray]) -> Figure:
    panels = [figures.hist([{"label": "given inputs", "values": conf_in}, {"label": name, "values": conf}],
                           title=f"{name} (mean {float(conf.mean()):.2f})", xlabel="max softmax", bins=20,
                           range=(0.0, 1.0)) for name, conf in confs.items()]
    return Figure("confidence", "Confidence on the given inputs vs each out-of-distribution set", panels,
                  caption="Normalized histograms of the model's max softmax. Mass near 1 on an OOD set: "
                          "confident answers on inputs that hold nothing it was trained on.")


def score_figure(m: Metrics, sets: list[str], scores: list[str]) -> Figure:
    def grid(prefix: str) -> list[list[float | None]]:
        return [[m[f"{prefix}_{s}" + ("" if sc == "max-softmax" else f"_{sc}")].value for sc in scores] for s in sets]

    cols = [LABELS[sc] for sc in scores]
    return Figure("scores", "Which score tells each set from the given inputs", [
        figures.matrix(grid("fpr95"), rows=sets, cols=cols, title="FPR at 95% TPR (lower: better)", cmap="Reds",
                       vmin=0.0, vmax=1.0),
        figures.matrix(grid("auroc"), rows=sets, cols=cols, title="AUROC (higher: better)", cmap="Greens",
                       vmin=0.5, vmax=1.0)],
        caption="FPR95: the share of the set still accepted when 95% of the given inputs are. Energy and max logit "
                "read the logits before the softmax normalizes them away; MC-dropout MI is the disagreement "
                "between dropout passes. Intervals are in the metrics table.")


def pictures(x: Tensor, bounds: Bounds) -> Tensor:
    """Inputs as pictures in [0, 1] by their bounds: (N, H, W), or (N, H, W, 3) for RGB images (drawn in colour);
    images with another number of channels as the mean of their channels."""
    span = bounds.span.clamp_min(1e-12)
    u = ((x - bounds.lo) / span).clamp(0, 1)
    if u.dim() != 4:
        return u
    return u.permute(0, 2, 3, 1) if u.shape[1] == 3 else u.mean(1)


def examples_figure(examples: dict[str, tuple[Tensor, Tensor]], data: Tensor, bounds: Bounds) -> Figure | None:
    """`examples[set] = (inputs, logits)`, most confident first. None for inputs that are neither images nor rows."""
    if data.dim() == 2:
        return _rows_figure(examples, data, bounds)
    if data.dim() not in (3, 4):
        return None
    k = min(len(x) for x, _ in examples.values())
    pics, captions = [], []
    for x, z in examples.values():
        conf, pred = torch.softmax(z[:k], 1).max(1)
        pics.append(pictures(x[:k], bounds))
        captions += [f"{p} ({c:.2f})" for p, c in zip(pred.tolist(), conf.tolist())]
    averaged = data.dim() == 4 and data.shape[1] not in (1, 3)
    panel = figures.images(torch.cat(pics), ncols=k, captions=captions, row_labels=list(examples), title="",
                           cmap="gray_r" if data.dim() == 3 or data.shape[1] == 1 else "gray")
    return Figure("examples", "Most confidently accepted OOD inputs", [panel],
                  caption="Per set, the inputs with the highest max softmax: the predicted class (max softmax)."
                          + (" Shown as the mean of their channels." if averaged else ""))


def _rows_figure(examples: dict[str, tuple[Tensor, Tensor]], data: Tensor, bounds: Bounds) -> Figure:
    span = bounds.span.expand(data.shape[1:]).clamp_min(1e-12)
    median = data.median(0).values
    panels = []
    for name, (x, _) in examples.items():
        far = ((x - median).abs() / span).mean(0)
        top = far.argsort(descending=True)[:8].tolist()
        panels.append(figures.bars([f"feature {j}" for j in top], [{"label": name, "values": [float(far[j])
                                   for j in top]}], title=f"{name}: its {len(x)} most confident rows",
                                   ylabel="mean |value - data median| / range"))
    return Figure("examples", "How the most confident OOD rows differ", panels,
                  caption="For each set's most confidently accepted rows: how far each feature lies from the given "
                          "inputs' median, in units of that feature's range (its bounds); the 8 farthest features.")


def set_names(m: MetricValues) -> list[str]:
    """The scored sets, your own first."""
    return sorted((k.removeprefix("fpr95_") for k in m if k.startswith("fpr95_") and k.count("_") == 1),
                  key=lambda s: s != "yours")


def tag(name: str, score: str) -> str:
    return name if score == "max-softmax" else f"{name}_{score}"


def best_score(m: MetricValues, s: str) -> str | None:
    """The other score with the lowest FPR95 on set `s`, if any was measured."""
    measured = [sc for sc in OTHER if m[f"fpr95_{s}_{sc}"] is not None]
    return min(measured, key=lambda sc: m[f"fpr95_{s}_{sc}"] or 0.0) if measured else None


def ood_advice(verdict: Verdict, m: MetricValues, *, max_fpr: float) -> str:
    """What to try next, from the measured numbers: a better score where one is measurably better, outlier
    exposure or a feature-space detector where none is, your own OOD set where none was given."""
    if verdict.status == "unreliable":
        return "Make the forward pass deterministic first (eval mode, no sampling in forward): every score is a draw."
    sets = set_names(m)
    bad = [s for s in sets if (iv := interval(m, f"fpr95_{s}")) is not None and iv[1] >= max_fpr]
    tips, unhelped = [], []
    for s in bad:
        better = [sc for sc in OTHER if (iv := interval(m, f"better_{s}_{sc}")) is not None and iv[0] > 0]
        if better:
            sc = min(better, key=lambda b: m[f"fpr95_{s}_{b}"] or 0.0)
            tips.append(f"On {s}, {LABELS[sc]} accepts {m[f'fpr95_{s}_{sc}']:.0%} at 95% TPR where max softmax "
                        f"accepts {m[f'fpr95_{s}']:.0%} (measurably fewer: paired interval above 0): flag OOD inputs "
                        f"with {LABELS[sc]} instead; it needs no retraining.")
        else:
            unhelped.append(s)
    if unhelped:
        tips.append(f"No score read from the outputs separates {', '.join(unhelped)}: train with outlier exposure "
                    "(Hendrycks, Mazeika, Dietterich. ICLR 2019: a loss pushing the softmax to uniform on auxiliary "
                    "outliers like these), or detect in feature space (Mahalanobis distance, Lee et al. NeurIPS 2018; "
                    "nearest neighbours, Sun et al. ICML 2022).")
    if verdict.status == "fails" and m["accept_conf"] is not None:
        tips.append(f"Max softmax can serve as a filter: rejecting answers below {m['accept_conf']:.3f} keeps 95% of "
                    "the given inputs and rejects most of each set measured here.")
    if verdict.status == "inconclusive":
        tips.append("Some FPR95 interval straddles the threshold: more OOD inputs narrow it (--set ood.max_ood=2000, "
                    "or a larger --ood file).")
    if "yours" not in sets:
        tips.append("Pass inputs like those you expect in deployment (--ood FILE): noise and shuffled features are "
                    "easy cases, and rejecting them says little about realistic shifts.")
    return " ".join(tips)
