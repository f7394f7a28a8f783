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

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab import attribution, figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

METHODS = ("grad-cam", "gradient", "grad-x-input", "integrated-gradients")
LABELS = {"grad-cam": "Grad-CAM", "gradient": "|gradient|", "grad-x-input": "grad × input",
          "integrated-gradients": "integ. grad."}
MARGIN = 0.05  # AUC margin over the random ordering for "faithful" (fixed with the rule above)
SANITY = 0.5   # rank correlation after full randomization at or above which a method fails the check

Explainer = Callable[[nn.Module, Tensor], Tensor]


@dataclass(frozen=True)
class InterpretabilityConfig:
    layer: str = "features"  # Grad-CAM's layer in the zoo CNN (8x8 feature maps, the input's size)
    epochs: int = 40
    num_eval: int = 120  # test digits for the curves and the randomization test
    num_examples: int = 8  # columns of the heatmap grid
    ig_steps: int = 32
    num_curve_steps: int = 16  # points of the deletion / insertion curves after 0 (64 pixels)

    def __post_init__(self) -> None:
        check(self.epochs >= 1, f"epochs={self.epochs}; expected >= 1")
        check(1 <= self.num_eval <= 360, f"num_eval={self.num_eval}; expected 1..360 (the digits test set)")
        check(1 <= self.num_examples <= self.num_eval,
              f"num_examples={self.num_examples}; expected 1..num_eval ({self.num_eval})")
        check(self.ig_steps >= 1, f"ig_steps={self.ig_steps}; expected >= 1")
        check(1 <= self.num_curve_steps <= 64, f"num_curve_steps={self.num_curve_steps}; expected 1..64 (pixels)")


def explainers(cfg: InterpretabilityConfig, target: Tensor) -> dict[str, Explainer]:
    """Each method as model, x -> (N, H, W) map of the fixed `target` classes (summed over channels)."""
    return {
        "grad-cam": lambda m, x: attribution.grad_cam(m, x, layer=cfg.layer, target=target),
        "gradient": lambda m, x: attribution.input_gradient(m, x, target=target).abs().sum(1),
        "grad-x-input": lambda m, x: attribution.gradient_x_input(m, x, target=target).sum(1),
        "integrated-gradients": lambda m, x: attribution.integrated_gradients(
            m, x, target=target, steps=cfg.ig_steps).sum(1),
    }


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

    def train(self, ctx: Context) -> nn.Module:
        return digits_cnn(ctx, epochs=self.config.epochs)  # the shared reference CNN (cached across studies)

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        model = self.train(ctx)
        with torch.no_grad():
            probs = torch.softmax(model(data.test.x), dim=1)
        conf, pred = probs[:cfg.num_eval].max(dim=1)
        x = data.test.x[:cfg.num_eval]
        methods = explainers(cfg, pred)
        maps = {name: explain(model, x) for name, explain in methods.items()}
        maps["image"] = x.sum(1)  # the control: ink first, whatever the model
        maps["random"] = torch.rand(x.shape[0], *x.shape[2:], generator=ctx.generator("random-order"))
        curves = {name: (attribution.deletion_curve(model, x, a, target=pred, num_steps=cfg.num_curve_steps),
                         attribution.insertion_curve(model, x, a, target=pred, num_steps=cfg.num_curve_steps))
                  for name, a in maps.items()}
        cascades = {name: attribution.cascading_randomization(model, x, explain,
                                                              generator=ctx.generator("randomize"))
                    for name, explain in ctx.progress.track(methods.items(), description="randomization")}
        corr = {name: c.correlations(absolute=True).nan_to_num(0.0).mean(1) for name, c in cascades.items()}
        signed = {name: c.correlations(absolute=False).nan_to_num(0.0).mean(1) for name, c in cascades.items()}
        metrics = self.metrics(probs, data.test.y, curves, corr, signed)
        figs = [self.heatmaps(x, data.test.y, pred, conf, maps), self.curve_figure(curves),
                *self.randomization_figures(x, cascades, corr, signed)]
        return self.result(ctx, metrics=metrics, figures=figs, tables=[self.table(metrics)])

    def metrics(self, probs, y, curves, corr, signed) -> dict[str, Metric | tuple]:
        n = self.config.num_eval
        out: dict[str, Metric | tuple] = {
            "accuracy": (float((probs.argmax(1) == y).float().mean()), "fraction", "CNN test accuracy (360 digits)")}
        for name, (dele, ins) in curves.items():
            out[f"deletion_auc_{name}"] = (float(dele.auc.mean()), "AUC",
                                           f"mean area under the deletion curve of {name} ({n} digits; lower: better)")
            out[f"insertion_auc_{name}"] = (float(ins.auc.mean()), "AUC",
                                            f"mean area under the insertion curve of {name} (higher: better)")
        for name, c in corr.items():
            out[f"rank_corr_top_{name}"] = (float(c[1]), "Spearman",
                                            f"{name}: rank correlation with the trained map, top layer randomized")
            out[f"rank_corr_all_{name}"] = (float(c[-1]), "Spearman",
                                            f"{name}: rank correlation with the trained map, every layer randomized")
            out[f"rank_corr_all_signed_{name}"] = (float(signed[name][-1]), "Spearman",
                                                   f"{name}: the same on signed maps (Adebayo et al.'s second variant)")
        return out

    def table(self, m: Mapping[str, Metric | tuple]) -> Table:
        value = {k: (v.value if isinstance(v, Metric) else v[0]) for k, v in m.items()}
        rows = [[name, round(value[f"deletion_auc_{name}"], 3), round(value[f"insertion_auc_{name}"], 3),
                 *([round(value[f"rank_corr_top_{name}"], 3), round(value[f"rank_corr_all_{name}"], 3),
                    "fails" if value[f"rank_corr_all_{name}"] >= SANITY else "passes"]
                   if name in METHODS else ["", "", ""])]
                for name in (*METHODS, "image", "random")]
        return Table("Faithfulness and sanity per method",
                     ["method", "deletion AUC", "insertion AUC", "rank corr (top layer)", "rank corr (all layers)",
                      "sanity check"], rows,
                     caption=f"Sanity check: fails when the rank correlation after randomizing every layer is "
                             f">= {SANITY}. "
                             "'image' ranks pixels by ink (a model-free control); 'random' in random order.")

    def heatmaps(self, x, y, pred, conf, maps) -> Figure:
        k = self.config.num_examples
        digits_ = x[:k, 0]
        overlays = [None] * k
        for name in METHODS:
            mag = maps[name][:k].abs()
            overlays += list(mag / mag.flatten(1).max(1).values.clamp_min(1e-12).view(-1, 1, 1))
        captions = [f"{p} ({c:.0%})" + ("" if p == t else f" ≠{t}")
                    for p, c, t in zip(pred[:k].tolist(), conf[:k].tolist(), y[:k].tolist())]
        panel = figures.images(torch.cat([digits_] * (len(METHODS) + 1)), ncols=k, captions=captions,
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
        images, overlays = [], []
        for name in METHODS:
            for m in cascades[name].maps:
                mag = m[0].abs()
                images.append(x[0, 0])
                overlays.append(mag / mag.max().clamp_min(1e-12))
        grid = figures.images(images, ncols=len(steps), overlays=overlays, row_labels=[LABELS[n] for n in METHODS],
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

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        d, dr = m["deletion_auc_grad-cam"], m["deletion_auc_random"]
        i, ir = m["insertion_auc_grad-cam"], m["insertion_auc_random"]
        faithful = d <= dr - MARGIN and i >= ir + MARGIN
        fails = [n for n in METHODS if m[f"rank_corr_all_{n}"] >= SANITY]
        passes = [n for n in METHODS if n not in fails]
        corr = ", ".join(f"{n} {m[f'rank_corr_all_{n}']:.2f}" for n in METHODS)
        text = (f"Grad-CAM deletion AUC {d:.2f} vs random {dr:.2f}, insertion {i:.2f} vs {ir:.2f}; rank correlation "
                f"after randomizing every layer: {corr} (fail at >= {SANITY}: {', '.join(fails) or 'none'})")
        if "deletion_auc_image" in m:
            text += (f"; the model-free control (pixels by ink) scores deletion {m['deletion_auc_image']:.2f}, "
                     f"insertion {m['insertion_auc_image']:.2f}")
        if not faithful:
            return Verdict("fails", f"{text}. Grad-CAM's ordering is not {MARGIN} AUC better than random on both "
                                    "curves.")
        if fails and passes:
            return Verdict("holds", f"{text}.")
        return Verdict("inconclusive", f"{text}. Every method {'fails' if fails else 'passes'} the sanity check.")
