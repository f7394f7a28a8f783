"""Interpretability: heatmaps show what drives a prediction, if they pass their sanity checks.

Selvaraju et al. Grad-CAM: visual explanations from deep networks via gradient-based localization.
ICCV 2017, arXiv:1610.02391. Simonyan, Vedaldi, Zisserman. Deep inside convolutional networks. 2014,
arXiv:1312.6034. Shrikumar et al. Not just a black box. 2016, arXiv:1605.01713. Sundararajan, Taly, Yan.
Axiomatic attribution for deep networks. ICML 2017, arXiv:1703.01365. Petsiuk, Das, Saenko. RISE.
BMVC 2018, arXiv:1806.07421. Adebayo et al. Sanity checks for saliency maps. NeurIPS 2018,
arXiv:1810.03292. Source: 000 ("deep learning models are not 'always' black boxes": the activation
heatmap laid back over the image).

Protocol: the zoo CNN trained on digits. For the first `num_eval` test digits, each method explains the
class the model predicts: Grad-CAM at `layer`, the input-gradient magnitude |dy/dx| (Simonyan), gradient
x input and integrated gradients from the blank image (signed: positive = evidence for the class).
Faithfulness: deletion and insertion curves (pixels set to / restored from 0 in decreasing order of the
map, following the predicted class's probability) and their areas, against a random ordering of the
pixels, and against the image itself as a map (pixels in decreasing order of ink: a control that knows
nothing of the model, to show how much of a curve the input's structure alone explains). Sanity:
cascading randomization of the CNN's four weight layers from the output down (on a copy); after each
step, Spearman's rank correlation of the magnitude of each input's map with the trained model's,
averaged over inputs (a map that became constant counts as correlation 0: it kept no ordering). The
signed maps' correlation is reported too (Adebayo et al. show both).

Verdict: "faithful" = Grad-CAM's mean deletion AUC is at least 0.05 below the random ordering's and
its mean insertion AUC at least 0.05 above it. A method "fails the sanity check" when the mean rank
correlation of its maps' magnitudes after randomizing every layer is >= 0.5 (the map keeps most of its
ordering with no trained weight left) and passes it otherwise. The claim holds if "faithful" and at
least one method fails the check while at least one passes it; it fails if not "faithful"; it is
inconclusive otherwise (every method passes, or every method fails).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from limitlab import attribution, figures
from limitlab.attribution.methods import LABELS, METHODS, explainers
from limitlab.config import Checked, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import predict_logits
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import plus
from limitlab.study import Study, register

MARGIN = 0.05  # AUC margin over the random ordering for "faithful" (fixed with the rule above)
SANITY = 0.5   # rank correlation after full randomization at or above which a method fails the check


def unit_max(maps: Tensor) -> Tensor:
    """Each (H, W) map of a batch divided by its own maximum (for overlays)."""
    return maps / maps.flatten(1).max(1).values.clamp_min(1e-12).view(-1, 1, 1)


@dataclass(frozen=True)
class InterpretabilityConfig(Checked):
    constraints: ClassVar = {"epochs": Interval(1), "num_eval": Interval(1, 360), "num_examples": Interval(1),
                             "ig_steps": Interval(1), "num_curve_steps": Interval(1, 64)}
    layer: str = "features"  # Grad-CAM's layer in the zoo CNN (8x8 feature maps, the input's size)
    epochs: int = 40
    num_eval: int = 120  # test digits for the curves and the randomization test (the test set has 360)
    num_examples: int = 8  # columns of the heatmap grid
    ig_steps: int = 32
    num_curve_steps: int = 16  # points of the deletion / insertion curves after 0 (64 pixels)

    def validate(self) -> None:
        check(self.num_examples <= self.num_eval, f"num_examples={self.num_examples}; expected <= num_eval")


@register("interpretability", chapter="interpretability", sources=("000",))
class Interpretability(Study[InterpretabilityConfig]):
    """Grad-CAM and gradient maps, deletion / insertion, cascading randomization. Source: 000."""

    claim = ("Class-activation heatmaps show which input regions drive a prediction; some saliency methods fail "
             "sanity checks (they barely change when the model's weights are randomized), so a heatmap is "
             "evidence only when it passes them.")
    Config = InterpretabilityConfig
    presets = {
        "tiny": {"epochs": 4, "num_eval": 16, "num_examples": 4, "ig_steps": 8, "num_curve_steps": 8},
        "full": {"epochs": 60, "num_eval": 360, "num_examples": 10, "ig_steps": 64, "num_curve_steps": 64},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        model = digits_cnn(ctx, epochs=cfg.epochs)  # the shared reference CNN (cached across studies)
        probs = torch.softmax(predict_logits(model, data.test.x), dim=1)
        (conf, pred), x = probs[:cfg.num_eval].max(dim=1), data.test.x[:cfg.num_eval]
        methods = explainers(pred, layer=cfg.layer, ig_steps=cfg.ig_steps)
        maps = {name: explain(model, x) for name, explain in methods.items()}
        maps["image"] = x.sum(1)  # the control: ink first, whatever the model
        maps["random"] = torch.rand(x.shape[0], *x.shape[2:], generator=ctx.generator("random-order"))
        curves = {name: (attribution.deletion_curve(model, x, a, target=pred, num_steps=cfg.num_curve_steps),
                         attribution.insertion_curve(model, x, a, target=pred, num_steps=cfg.num_curve_steps))
                  for name, a in maps.items()}
        cascades = {name: attribution.cascading_randomization(model, x, explain, generator=ctx.generator("randomize"))
                    for name, explain in ctx.progress.track(methods.items(), description="randomization")}
        corr, signed = ({name: c.correlations(absolute=a).nan_to_num(0.0).mean(1) for name, c in cascades.items()}
                        for a in (True, False))
        m = self.metrics(probs, data.test.y, curves, corr, signed)
        figs = [self.heatmaps(x, data.test.y, pred, conf, maps), self.curve_figure(curves),
                *self.randomization_figures(x, cascades, corr, signed)]
        return self.result(ctx, metrics=m, figures=figs, tables=[self.table(m)])

    def metrics(self, probs, y, curves, corr, signed) -> Metrics:
        m = Metrics()
        m.add("accuracy", float((probs.argmax(1) == y).float().mean()), "fraction", "CNN test accuracy (360 digits)")
        for name, (dele, ins) in curves.items():
            m.add(f"deletion_auc_{name}", float(dele.auc.mean()), "AUC", f"{name}: mean deletion AUC, lower: better")
            m.add(f"insertion_auc_{name}", float(ins.auc.mean()), "AUC", f"{name}: mean insertion AUC, higher: better")
        for name, c in corr.items():
            m.add(f"rank_corr_top_{name}", float(c[1]), "Spearman", f"{name}: |map| vs trained, top layer randomized")
            m.add(f"rank_corr_all_{name}", float(c[-1]), "Spearman", f"{name}: the same, every layer randomized")
            m.add(f"rank_corr_all_signed_{name}", float(signed[name][-1]), "Spearman", f"{name}: the same, signed maps")
        return m

    def judge(self, m: MetricValues) -> Verdict:
        d, dr = m["deletion_auc_grad-cam"], m["deletion_auc_random"]
        i, ir = m["insertion_auc_grad-cam"], m["insertion_auc_random"]
        faithful = every([at_most(d, plus(dr, -MARGIN)), at_least(i, plus(ir, MARGIN))])
        checked = [n for n in METHODS if m[f"rank_corr_all_{n}"] is not None]
        fails = [n for n in checked if m[f"rank_corr_all_{n}"] >= SANITY]
        passes = [n for n in checked if n not in fails]
        corr = ", ".join(f"{n} {fmt(m[f'rank_corr_all_{n}'], '.2f')}" for n in METHODS)
        text = (f"Grad-CAM deletion AUC {fmt(d, '.2f')} vs random {fmt(dr, '.2f')}, insertion {fmt(i, '.2f')} vs "
                f"{fmt(ir, '.2f')}; rank correlation after randomizing every layer: {corr} (fail at >= {SANITY}: "
                f"{', '.join(fails) or 'none'})")
        if "deletion_auc_image" in m:
            text += (f"; the model-free control (pixels by ink) scores deletion {fmt(m['deletion_auc_image'], '.2f')}, "
                     f"insertion {fmt(m['insertion_auc_image'], '.2f')}")
        mixed = bool(fails and passes) if len(checked) == len(METHODS) else None
        return Verdict.combine({"faithful": faithful, "mixed": mixed}, text, decisive=("faithful",), missing={
            "faithful": f"Grad-CAM's ordering is not {MARGIN} AUC better than random on both curves.",
            "mixed": f"Every method {'fails' if fails else 'passes'} the sanity check." if mixed is False
            else "The sanity check was not measured for every method."})

    def table(self, m: Metrics) -> Table:
        value = {k: v.value for k, v in m.items()}
        rows = [[name, round(value[f"deletion_auc_{name}"], 3), round(value[f"insertion_auc_{name}"], 3),
                 *([round(value[f"rank_corr_top_{name}"], 3), round(value[f"rank_corr_all_{name}"], 3),
                    "fails" if value[f"rank_corr_all_{name}"] >= SANITY else "passes"]
                   if name in METHODS else ["", "", ""])]
                for name in (*METHODS, "image", "random")]
        return Table("Faithfulness and sanity per method",
                     ["method", "deletion AUC", "insertion AUC", "rank corr (top layer)", "rank corr (all layers)",
                      "sanity check"], rows,
                     caption=f"Sanity check: fails when the rank correlation after randomizing every layer is >= "
                             f"{SANITY}. 'image' ranks pixels by ink (a model-free control); 'random' in random order.")

    def heatmaps(self, x, y, pred, conf, maps) -> Figure:
        k = self.config.num_examples
        overlays = [None] * k + [o for name in METHODS for o in unit_max(maps[name][:k].abs())]
        captions = [f"{p} ({c:.0%})" + ("" if p == t else f" ≠{t}")
                    for p, c, t in zip(pred[:k].tolist(), conf[:k].tolist(), y[:k].tolist())]
        panel = figures.images(torch.cat([x[:k, 0]] * (len(METHODS) + 1)), ncols=k, captions=captions,
                               overlays=overlays, row_labels=["digit", *(LABELS[n] for n in METHODS)], title="")
        return Figure("heatmaps", "Heatmaps laid back over test digits", [panel],
                      caption="Top row: test digits with the CNN's predicted class and its confidence (≠t: the true "
                              "class t when the prediction is wrong). Below: each method's map of the predicted "
                              "class, as magnitude scaled to its own maximum (red: high, blue: low).")

    def curve_figure(self, curves) -> Figure:
        panels = []
        for i, (kind, better) in enumerate((("deletion", "lower"), ("insertion", "higher"))):
            series = [figures.series(f"{name} (AUC {float(c[i].auc.mean()):.2f})", c[i].fractions,
                                     c[i].scores.mean(0), style="line+points" if name in METHODS else "line")
                      for name, c in curves.items()]
            panels.append(figures.lines(series, title=f"{kind.capitalize()} (AUC: {better} is better)",
                                        xlabel=f"fraction of pixels {'removed' if i == 0 else 'restored'}",
                                        ylabel="probability of the predicted class", ylim=(0, 1.02)))
        return Figure("deletion-insertion", "Deletion and insertion curves", panels,
                      caption="Pixels set to 0 (deletion) or restored onto a blank image (insertion) in decreasing "
                              "order of each map, against a random order and the image itself as a model-free map "
                              "(ink first); mean over the evaluated test digits.")

    def randomization_figures(self, x, cascades, corr, signed) -> list[Figure]:
        layers = next(iter(cascades.values())).layers
        steps = list(range(len(layers) + 1))
        lines = [figures.lines([figures.series(name, steps, c) for name, c in values.items()],
                               title=f"{kind} maps", xlabel="number of layers randomized (top down)",
                               ylabel="mean Spearman correlation with trained map", ylim=(-0.2, 1.02),
                               hlines=[{"y": SANITY, "label": "sanity threshold"}] if kind == "|map|" else [])
                 for kind, values in (("|map|", corr), ("signed", signed))]
        overlays = [unit_max(mp[:1].abs())[0] for name in METHODS for mp in cascades[name].maps]
        grid = figures.images([x[0, 0]] * len(overlays), ncols=len(steps), overlays=overlays,
                              row_labels=[LABELS[n] for n in METHODS],
                              captions=["trained", *[f"+ {n}" for n in layers]], title="")
        order = " -> ".join(layers)
        return [Figure("randomization", "Sanity check: cascading model randomization", lines,
                       caption=f"Adebayo et al. 2018: layers re-initialized from the output down ({order}); a map "
                               "that explains the model decorrelates from the trained model's map as its weights "
                               "are destroyed. The verdict uses the magnitude (left); signed maps on the right. "
                               "Grad-CAM and |gradient| are non-negative, so both panels agree for them; grad × input "
                               "and IG (from a blank baseline) are exactly 0 wherever a pixel is blank, whatever the "
                               "weights, so their magnitudes share the background's ranking."),
                Figure("randomization-maps", "One digit's maps as the layers are randomized", [grid],
                       caption=f"The first test digit; columns add one randomized layer each ({order}). Maps as "
                               "magnitude scaled to their own maximum.")]
