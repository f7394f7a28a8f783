"""The attribution section's figures, table, evidence lines and advice."""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab import figures
from limitlab.attribution import CascadingRandomization
from limitlab.attribution.methods import LABELS, unit_max
from limitlab.audit._common import shown
from limitlab.audit.bounds import Bounds
from limitlab.audit.ood_views import pictures
from limitlab.result import Figure, Metrics, MetricValues, Table, Verdict

WORDS = {True: "passes", False: "fails", None: "undecided"}


def status(m: MetricValues, method: str, cfg) -> tuple[bool | None, bool | None]:
    """(passes the sanity check, beats random deletion): True / False when the interval decides, else None."""
    corr, gain = m.metric(f"rank_corr_{method}"), m.metric(f"gain_{method}")
    sane = None if corr is None or not corr.interval else \
        True if corr.interval[1] < cfg.max_corr else False if corr.interval[0] > cfg.max_corr else None
    beats = None if gain is None or not gain.interval else \
        True if gain.interval[0] > cfg.min_gain else False if gain.interval[1] < cfg.min_gain else None
    return sane, beats


def heatmaps(x: Tensor, probs: Tensor, cascades: dict[str, CascadingRandomization], bounds: Bounds, *,
             k: int) -> Figure:
    """Inputs, each method's map of the trained model, and its map after every layer is randomized."""
    k = min(k, len(x))
    conf, pred = probs[:k].max(1)
    pics = pictures(x[:k], bounds)
    names = list(cascades)
    overlays: list = [None] * k
    for step in (0, -1):
        for name in names:
            overlays += list(unit_max(cascades[name].maps[step][:k].abs().float()))
    averaged = x.shape[1] not in (1, 3)
    rows = ["input", *(LABELS[n] for n in names), *(f"{LABELS[n]}\nrandomized" for n in names)]
    panel = figures.images(torch.cat([pics] * (1 + 2 * len(names))), ncols=k, overlays=overlays,
                           captions=[f"{p} ({c:.2f})" for p, c in zip(pred.tolist(), conf.tolist())], row_labels=rows,
                           cmap="gray_r" if x.shape[1] == 1 else "gray", title="")
    return Figure("heatmaps", "Heatmaps: trained vs randomized", [panel],
                  caption="Top: inputs, the predicted class (max softmax). Then each method's map of that class "
                          "(magnitude scaled to its own maximum; red: high), of the trained model and of a copy whose "
                          "every layer was re-initialized. A map that looks the same in both is not about the weights."
                          + (" Shown as the mean of their channels." if averaged else ""))


def curves_figure(corr: dict[str, Tensor], curves: dict[str, tuple[Tensor, Tensor]], layers: list[str], *,
                  max_corr: float) -> Figure:
    steps = list(range(len(layers) + 1))
    sanity = figures.lines([figures.series(LABELS[k], steps, c.mean(1)) for k, c in corr.items()],
                           title="Sanity: cascading randomization", xlabel="layers randomized (from the output down)",
                           ylabel="mean rank correlation with the trained map", ylim=(-0.2, 1.02),
                           hlines=[{"y": max_corr, "label": "sanity threshold"}])
    deletion = figures.lines([figures.series(LABELS.get(k, k), f, c.mean(0),
                                             style="line" if k == "random" else "line+points")
                              for k, (f, c) in curves.items()], title="Deletion (lower area: better)",
                             xlabel="fraction of pixels set to the channel mean", ylim=(0, 1.02),
                             ylabel="probability of the predicted class")
    order = " -> ".join(n.removeprefix("model.") for n in layers)
    return Figure("sanity", "Do the maps depend on the weights, and on what the prediction depends on?",
                  [sanity, deletion], caption=f"Left: Adebayo et al. 2018, layers re-initialized top down ({order}) "
                                              "on a copy. Right: pixels removed in the order of each map, or at "
                                              "random; mean over the inputs.")


def table(m: Metrics, methods: tuple[str, ...], cfg) -> Table:
    values = MetricValues(m)
    rows = []
    for k in methods:
        sane, beats = status(values, k, cfg)
        rows.append([LABELS[k], shown(values, f"rank_corr_{k}", ".2f"), WORDS[sane],
                     f"{values[f'deletion_auc_{k}']:.3f}", shown(values, f"gain_{k}", ".3f"),
                     {True: "yes", False: "no", None: "undecided"}[beats], evidence_word(sane, beats)])
    return Table("Which maps are evidence", ["method", "rank corr (every layer randomized)", "sanity check",
                                             "deletion AUC", "AUC gain over random", "beats random",
                                             "maps are evidence"], rows,
                 caption=f"Sanity check: passes when the correlation's interval lies below {cfg.max_corr}; beats "
                         f"random when the gain's interval lies above {cfg.min_gain}. Random order's deletion AUC: "
                         f"{values['deletion_auc_random']:.3f}.")


def evidence_word(sane: bool | None, beats: bool | None) -> str:
    return "yes" if sane and beats else "no" if sane is False or beats is False else "undecided"


def line(m: MetricValues, k: str, cfg) -> str:
    sane, beats = status(m, k, cfg)
    vs = {True: f"beats random by more than {cfg.min_gain}", False: f"does not beat random by {cfg.min_gain}",
          None: f"undecided against the {cfg.min_gain} margin"}[beats]
    return (f"{LABELS[k]}: rank correlation after randomizing every layer {shown(m, f'rank_corr_{k}', '.2f')} "
            f"(sanity check {WORDS[sane]}); deletion area {shown(m, f'deletion_auc_{k}')} vs random "
            f"{shown(m, 'deletion_auc_random')}, lower by {shown(m, f'gain_{k}')} ({vs}); "
            f"evidence: {evidence_word(sane, beats)}")


def advice(verdict: Verdict, m: MetricValues, cfg) -> str:
    if verdict.status == "unreliable":
        return "Make the forward pass deterministic first: every map and curve here is a draw."
    tips = []
    for k in cfg.methods:
        sane, beats = status(m, k, cfg)
        flat = m[f"flat_{k}"] or 0.0
        if flat > 0.5:
            tips.append(f"{LABELS[k]}'s map is constant on {flat:.0%} of the inputs: no gradient reaches it (check "
                        "for non-differentiable steps, or a ReLU that is off at this layer); choose another --layer.")
        elif sane is False:
            tips.append(f"{LABELS[k]} keeps its ordering when every layer is randomized (rank correlation "
                        f"{m[f'rank_corr_{k}']:.2f}): it shows the input's structure, not what the model learned; do "
                        "not read its maps as explanations of this model.")
        elif sane and beats is False:
            tips.append(f"{LABELS[k]} depends on the weights, but deleting its top pixels lowers the prediction no "
                        "faster than a random order: it does not point at what the prediction rests on. Try Grad-CAM "
                        "at an earlier layer (--layer NAME: finer maps) or integrated gradients (--set "
                        "attribution.methods=grad-cam,integrated-gradients).")
        elif sane and beats:
            tips.append(f"{LABELS[k]}'s maps pass both checks: use them, per class, and re-run this check when the "
                        "model changes.")
    if verdict.status == "inconclusive":
        tips.append(f"Some interval straddles its threshold: explain more inputs (--set attribution.num_inputs="
                    f"{4 * cfg.num_inputs}).")
    return " ".join(tips)
