"""Interpretability: heatmaps show what drives a prediction, if they pass their sanity checks.

Selvaraju et al. Grad-CAM: visual explanations from deep networks via gradient-based localization. ICCV 2017,
arXiv:1610.02391. Simonyan, Vedaldi, Zisserman. Deep inside convolutional networks. 2014, arXiv:1312.6034. Shrikumar
et al. Not just a black box. 2016, arXiv:1605.01713. Sundararajan, Taly, Yan. Axiomatic attribution for deep
networks. ICML 2017, arXiv:1703.01365. Petsiuk, Das, Saenko. RISE. BMVC 2018, arXiv:1806.07421. Adebayo et al.
Sanity checks for saliency maps. NeurIPS 2018, arXiv:1810.03292. Source: 000 ("deep learning models are not 'always'
black boxes": the activation heatmap laid back over the image).

Protocol: the reference CNN on digits. For the first `num_eval` test digits, each method
(`limitlab.attribution.methods`) explains the predicted class: Grad-CAM at `layer`, |input gradient|, gradient x
input, integrated gradients. Faithfulness: deletion and insertion curves (pixels set to / restored from 0 in
decreasing order of the map; the predicted class's probability) and their areas, per digit, against two controls
that know nothing of the model: a random order, and the image itself as the map (pixels by ink). Sanity: cascading
randomization of the CNN's four weight layers from the output down (on a copy); Spearman's rank correlation of each
digit's |map| with the trained model's (a map turned constant counts 0); signed maps reported too.

Verdict: comparisons are paired over the digits and hold only when their margin exceeds two standard errors of the
per-digit difference (of the mean, for a correlation) and, over seeds, the spread. "faithful" = Grad-CAM's deletion
AUC is >= 0.05 below the random order's and its insertion AUC >= 0.05 above it; "beyond the input" = Grad-CAM also
beats the ink control on both curves: an attribution is evidence about the model only when it beats baselines that
ignore the model (Adebayo et al.'s edge detector, Hooker et al.'s ROAR: NeurIPS 2019, arXiv:1806.10758), and
deleting a blank pixel changes nothing, so an order by ink is a strong baseline for these curves; "mixed" = some
method fails the sanity check (mean rank correlation after randomizing every layer >= 0.5: the map keeps its
ordering with no trained weight left) and some method passes it (< 0.5). Holds if all three hold; fails if not
"faithful"; else inconclusive.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from limitlab import attribution, figures
from limitlab.attribution.methods import LABELS, METHODS, explainers, unit_max
from limitlab.config import Checked, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import predict_logits
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import decided, margin, mean_noise, paired_noise
from limitlab.study import Study, register

MARGIN, SANITY = 0.05, 0.5  # the rule's AUC margin over the random order; the correlation that fails the check


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

    def validate(self) -> None:  # the heatmap grid shows evaluated digits
        check(self.num_examples <= self.num_eval, f"num_examples={self.num_examples}; expected <= num_eval")


@register("interpretability", chapter="interpretability", sources=("000",))
class Interpretability(Study[InterpretabilityConfig]):
    """Grad-CAM and gradient maps, deletion / insertion, cascading randomization. Source: 000."""

    claim = ("Class-activation heatmaps show which input regions drive a prediction; some saliency methods fail "
             "sanity checks (they barely change when the model's weights are randomized), so a heatmap is "
             "evidence only when it passes them.")
    Config = InterpretabilityConfig
    presets = {"tiny": {"epochs": 4, "num_eval": 16, "num_examples": 4, "ig_steps": 8, "num_curve_steps": 8},
               "full": {"epochs": 60, "num_eval": 360, "num_examples": 10, "ig_steps": 64, "num_curve_steps": 64}}

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
        corr, signed = ({name: c.correlations(absolute=a).nan_to_num(0.0) for name, c in cascades.items()}
                        for a in (True, False))  # (steps, digits)
        m = self.metrics(probs, data.test.y, curves, corr, signed)
        figs = [self.heatmaps(x, data.test.y, pred, conf, maps), self.curve_figure(curves, m),
                *self.randomization_figures(x, cascades, corr, signed)]
        return self.result(ctx, metrics=m, figures=figs, tables=[self.table(m)])

    def metrics(self, probs, y, curves, corr, signed) -> Metrics:
        m = Metrics()
        m.add("accuracy", float((probs.argmax(1) == y).float().mean()), "fraction", "CNN test accuracy (360 digits)")
        for name, (dele, ins) in curves.items():
            m.add(f"deletion_auc_{name}", float(dele.auc.mean()), "AUC", f"{name}: mean deletion AUC, lower: better")
            m.add(f"insertion_auc_{name}", float(ins.auc.mean()), "AUC", f"{name}: mean insertion AUC, higher: better")
        for name in METHODS:  # per-digit AUC gains over the two model-free controls
            for kind, i, sign in (("deletion", 0, -1), ("insertion", 1, 1)):
                for control in ("random", "image"):
                    a, b = sign * curves[name][i].auc, sign * curves[control][i].auc
                    m.add(f"{kind}_gain_{control}_{name}", float((a - b).mean()), "AUC", f"{name}: {kind} AUC better "
                          f"than the {control} order's by", noise=paired_noise(a, b))
        for name, c in corr.items():
            m.add(f"rank_corr_top_{name}", float(c[1].mean()), "Spearman", f"{name}: |map| vs trained, top randomized")
            m.add(f"rank_corr_all_{name}", float(c[-1].mean()), "Spearman", f"{name}: |map| vs trained, all randomized",
                  noise=mean_noise(c[-1]))
            m.add(f"rank_corr_all_signed_{name}", float(signed[name][-1].mean()), "Spearman", f"{name}: signed maps")
        return m

    def judge(self, m: MetricValues) -> Verdict:
        gain = {(k, c): (m[f"{k}_gain_{c}_grad-cam"], margin(m, f"{k}_gain_{c}_grad-cam"))
                for k in ("deletion", "insertion") for c in ("random", "image")}  # Grad-CAM over each control
        corr = {n: (m[f"rank_corr_all_{n}"], margin(m, f"rank_corr_all_{n}")) for n in METHODS}
        fails = [n for n, (c, e) in corr.items() if at_least(c, SANITY, noise=e)]
        passes = [n for n, (c, e) in corr.items() if at_most(c, SANITY, noise=e)]
        parts = {"faithful": every(decided(g, MARGIN, noise=e) for (_, c), (g, e) in gain.items() if c == "random"),
                 "beyond the input": every(at_least(g, 0, noise=e) for (_, c), (g, e) in gain.items() if c == "image"),
                 "mixed": bool(fails and passes) if fails or passes else None}
        listed = ", ".join(f"{n} {fmt(c, '.2f')}" for n, (c, _) in corr.items())
        text = (f"Grad-CAM beats the random order by {fmt(gain['deletion', 'random'][0], '.2f')} deletion AUC and "
                f"{fmt(gain['insertion', 'random'][0], '.2f')} insertion AUC, and the model-free ink order by "
                f"{fmt(gain['deletion', 'image'][0], '+.2f')} and {fmt(gain['insertion', 'image'][0], '+.2f')} (+- "
                f"{fmt(gain['deletion', 'image'][1], '.2f')}, {fmt(gain['insertion', 'image'][1], '.2f')}); rank "
                f"correlation after randomizing every layer: {listed} (fail at >= {SANITY}: "
                f"{', '.join(fails) or 'none'})")
        return Verdict.combine(parts, text, decisive=("faithful",), missing={
            "faithful": f"Grad-CAM's ordering is not {MARGIN} AUC better than random on both curves.",
            "beyond the input": "Grad-CAM's ordering is not shown to beat the ink's: its heatmap is not evidence "
                                "about the model beyond what the image shows.",
            "mixed": f"No method {'passes' if fails else 'fails'} the sanity check beyond its noise."})

    def table(self, m: Metrics) -> Table:
        v = {k: round(x.value, 3) if x.value is not None else None for k, x in m.items()}
        beats = {n: all(at_least(m[f"{k}_gain_image_{n}"].value, 0.0, noise=m[f"{k}_gain_image_{n}"].noise)
                        for k in ("deletion", "insertion")) for n in METHODS}
        sanity = {True: "fails", False: "passes", None: "not measured"}  # at_least(correlation, SANITY)
        rows = [[n, v[f"deletion_auc_{n}"], v[f"insertion_auc_{n}"], *([v[f"rank_corr_top_{n}"],
                 v[f"rank_corr_all_{n}"], sanity[at_least(v[f"rank_corr_all_{n}"], SANITY)],
                 "yes" if beats[n] else "no"] if n in METHODS else [""] * 4)] for n in (*METHODS, "image", "random")]
        return Table("Faithfulness and sanity per method", ["method", "deletion AUC", "insertion AUC", "rank corr (top "
                     "layer)", "rank corr (all layers)", "sanity check", "beats the ink order"], rows,
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
                      caption="Top: test digits, the CNN's prediction, confidence (≠t: the true class t when wrong). "
                              "Below: each method's map of it, magnitude scaled to its maximum (red: high, blue: low).")

    def curve_figure(self, curves, m: Metrics) -> Figure:
        panels = []
        for i, (kind, better) in enumerate((("deletion", "lower"), ("insertion", "higher"))):
            series = [figures.series(f"{name} (AUC {float(c[i].auc.mean()):.2f})", c[i].fractions,
                                     c[i].scores.mean(0), style="line+points" if name in METHODS else "line")
                      for name, c in curves.items()]
            panels.append(figures.lines(series, title=f"{kind.capitalize()} (AUC: {better} is better)",
                                        xlabel=f"fraction of pixels {'removed' if i == 0 else 'restored'}",
                                        ylabel="probability of the predicted class", ylim=(0, 1.02)))
        gains = {k: [m[f"{k}_gain_image_{n}"] for n in METHODS] for k in ("deletion", "insertion")}
        panels.append(figures.bars(list(METHODS), [{"label": f"{k} vs ink", "values": [g.value for g in v],
                                                    "err": [g.noise for g in v]} for k, v in gains.items()],
                                   title="AUC gain over the ink order (±2 SE)", ylabel="AUC better than ink"))
        return Figure("deletion-insertion", "Deletion and insertion curves", panels,
                      caption="Pixels set to 0 (deletion) or restored onto a blank image (insertion) in decreasing "
                              "order of each map, a random order, or by ink ('image', a model-free map); mean over the "
                              "digits. Right: each method's gain over the ink order (> 0: better than the image).")

    def randomization_figures(self, x, cascades, corr, signed) -> list[Figure]:
        layers = next(iter(cascades.values())).layers
        steps = list(range(len(layers) + 1))
        lines = [figures.lines([figures.series(name, steps, c.mean(1)) for name, c in values.items()],
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
                               "that explains the model decorrelates as its weights are destroyed. The verdict uses "
                               "the magnitude (left). grad × input and IG (from a blank baseline) are 0 wherever a "
                               "pixel is blank, whatever the weights: their magnitudes keep the background's ranking."),
                Figure("randomization-maps", "One digit's maps as the layers are randomized", [grid],
                       caption=f"The first test digit; columns add one randomized layer each ({order}). Maps as "
                               "magnitude scaled to their own maximum.")]
