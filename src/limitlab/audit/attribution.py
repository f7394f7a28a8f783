"""Audit section "attribution": are this model's heatmaps evidence about it, or would they look the same anyway?

Selvaraju et al. Grad-CAM. ICCV 2017, arXiv:1610.02391; Simonyan, Vedaldi, Zisserman. 2014,
arXiv:1312.6034 (|input gradient|); Adebayo et al. Sanity checks for saliency maps. NeurIPS 2018,
arXiv:1810.03292 (cascading model-parameter randomization); Petsiuk, Das, Saenko. RISE. BMVC 2018,
arXiv:1806.07421 (deletion curves); Hooker et al. NeurIPS 2019, arXiv:1806.10758 (a removed pixel takes
its channel's mean, and a map must beat a random order).

Protocol: for image inputs (N, C, H, W) and a model with a convolutional layer (`--layer NAME`, or the
last `nn.Conv2d`), on `num_inputs` test inputs drawn with a seed, each method of `methods` explains the
class the model predicts, from the logits the audit measures (normalization and output kind included)
with respect to the raw input: Grad-CAM at the layer, |input gradient| summed over channels. Sanity: on
a deep copy (the user's weights are never touched), the layers with parameters are re-initialized one
by one from the output down, and each input's |map| is compared with the trained model's by Spearman
rank correlation (a trained map that is constant counts 1: it cannot depend on the weights; a
randomized one that turns constant counts 0). Faithfulness: the deletion curve (pixels set to their
channel's mean in decreasing order of the map, in `num_steps` steps; the predicted class's
probability) and its area, against a random order, paired per input. Intervals: a bootstrap over
the inputs of the mean correlation after randomizing every layer and of the mean area gained over random.

Verdict: unreliable if the forward pass is not deterministic. A method "passes the sanity check" if the
95% interval of its mean rank correlation after randomizing every layer lies below `max_corr` (0.5),
and "fails" it if the interval lies above; it "beats random deletion" if the interval of its deletion
area's gain over the random order lies above `min_gain` (0.05), and "does not" if it lies below. Its
maps are evidence if it passes both, and not evidence if it fails the sanity check or does not beat
random deletion. Holds (the heatmaps are not evidence about this model) if no method's maps are
evidence and every method's are decided; fails if some method's maps are evidence; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from limitlab.attribution import cascading_randomization, deletion_curve, rank_correlation
from limitlab.attribution.methods import LABELS, METHODS, explainers
from limitlab.attribution.randomization import parametrized_layers
from limitlab.audit import attribution_views as views
from limitlab.audit._common import BootstrapConfig, Section, add_bootstrap, add_trust, untrusted, weights
from limitlab.audit.subject import Subject, subject_of
from limitlab.config import Each, Interval, OneOf
from limitlab.context import Context
from limitlab.result import Metrics, MetricValues, Result, Verdict
from limitlab.study import AUDIT_CHAPTER, register


@dataclass(frozen=True)
class AttributionConfig(BootstrapConfig):
    constraints: ClassVar = {**BootstrapConfig.constraints, "methods": Each(OneOf(METHODS), min_len=1, unique=True),
                             "num_inputs": Interval(2), "num_steps": Interval(1), "num_examples": Interval(1),
                             "max_corr": Interval(-1, 1), "min_gain": Interval(0, 1), "ig_steps": Interval(1)}
    methods: tuple[str, ...] = ("grad-cam", "gradient")
    num_inputs: int = 64
    num_steps: int = 16  # points of the deletion curve after 0
    num_examples: int = 6  # columns of the heatmap grid
    max_corr: float = 0.5
    min_gain: float = 0.05
    ig_steps: int = 32  # integrated gradients' path points, when that method is asked for


def conv_layer(model: nn.Module) -> str | None:
    """The name of the model's last `nn.Conv2d` (in registration order), or None."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    return names[-1] if names else None


@register("audit-attribution", chapter=AUDIT_CHAPTER)
class Attribution(Section):
    """Grad-CAM and input gradients under cascading randomization and deletion: see the module docstring."""

    claim = ("Are this model's heatmaps (Grad-CAM, input gradients) not evidence about what it learned: do they stay "
             "the same when its weights are randomized, or fail to find the pixels its prediction depends on?")
    Config = AttributionConfig
    presets = {"tiny": {"num_inputs": 16, "num_steps": 8, "num_examples": 4, "num_bootstrap": 200},
               "full": {"num_inputs": 256, "num_steps": 32, "num_bootstrap": 4000}}

    @classmethod
    def missing(cls, subject) -> str | None:
        if subject.x.dim() != 4:
            return f"needs image inputs (N, C, H, W); the data is (N, {', '.join(map(str, subject.x.shape[1:]))})"
        if subject.layer is None and conv_layer(subject.model) is None:
            return "no convolutional layer: pass --layer NAME"
        return None

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        layer = s.layer or conv_layer(s.model)
        pick = torch.randperm(len(s.x), generator=ctx.generator("attribution", "inputs"))[:cfg.num_inputs].sort().values
        x, probs = s.x[pick], torch.softmax(s.logits[pick], 1)
        target = probs.argmax(1)
        names = [n for n in parametrized_layers(s.raw) if hasattr(s.raw.get_submodule(n), "reset_parameters")]
        explain = {k: self.explainer(k, target, f"model.{layer}", s.batch_size) for k in cfg.methods}
        cascades = {k: cascading_randomization(s.raw, x, f, layers=names, generator=ctx.generator("attribution",
                    "randomize")) for k, f in ctx.progress.track(explain.items(), description="attribution")}
        corr = {k: torch.stack([correlation(c.maps[0], mp) for mp in c.maps]) for k, c in cascades.items()}
        order = torch.rand(x.shape[0], *x.shape[2:], generator=ctx.generator("attribution", "random-order"))
        curves = {k: self.deletion(s, x, mp, target) for k, mp in
                  {**{k: c.maps[0] for k, c in cascades.items()}, "random": order}.items()}  # (fractions, scores)
        auc = {k: torch.trapezoid(c, f, dim=1).double().numpy() for k, (f, c) in curves.items()}
        m = Metrics()
        add_trust(m, s)
        m.add("num_inputs", len(x), "inputs", f"inputs explained (Grad-CAM at layer {layer!r})")
        m.add("num_layers", len(names), "layers", "layers re-initialized, top down: " + ", ".join(
            n.removeprefix("model.") for n in names))
        w = weights(len(x), num=cfg.num_bootstrap, rng=ctx.rng("attribution", "bootstrap"))
        m.add("deletion_auc_random", float(auc["random"].mean()), "AUC", "mean deletion area, random order")
        for k in cfg.methods:
            flat = cascades[k].maps[0].flatten(1).abs()
            m.add(f"flat_{k}", float((flat == flat[:, :1]).all(1).double().mean()), "fraction",
                  f"{LABELS[k]}: inputs whose map is constant (no ordering; counted as correlation 1)")
            c = w @ corr[k][-1].numpy() / len(x)
            add_bootstrap(m, f"rank_corr_{k}", c[0], c[1:], "Spearman", f"{LABELS[k]}: mean rank correlation of |map| "
                          "with the trained model's after randomizing every layer", level=cfg.level)
            m.add(f"deletion_auc_{k}", float(auc[k].mean()), "AUC", f"{LABELS[k]}: mean deletion area (lower: better)")
            g = w @ (auc["random"] - auc[k]) / len(x)
            add_bootstrap(m, f"gain_{k}", g[0], g[1:], "AUC", f"{LABELS[k]}: deletion area below the random order's "
                          "(paired per input; > 0: better than random)", level=cfg.level)
        figs = [views.heatmaps(x, probs, cascades, s.bounds, k=cfg.num_examples),
                views.curves_figure(corr, curves, names, max_corr=cfg.max_corr)]
        return self.result(ctx, metrics=m, figures=figs, tables=[views.table(m, cfg.methods, self.config)])

    def explainer(self, method: str, target: Tensor, layer: str, batch: int):
        """(model, x) -> maps of `method` for the classes `target`, in chunks of `batch` inputs."""
        def explain(model: nn.Module, x: Tensor) -> Tensor:
            return torch.cat([explainers(target[i:i + batch], layer=layer, ig_steps=self.config.ig_steps)[method](
                model, x[i:i + batch]) for i in range(0, len(x), batch)])
        return explain

    def deletion(self, s: Subject, x: Tensor, attribution: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """The fractions deleted and the curves (N, num_steps + 1), pixels set to their channel's mean over the
        test inputs (Hooker et al.'s ROAR baseline)."""
        base = s.x.mean(dim=(0, 2, 3)).view(-1, 1, 1)
        chunk = max(1, s.batch_size // (self.config.num_steps + 1))  # one forward pass holds batch_size images
        parts = [deletion_curve(s.raw, x[i:i + chunk], attribution[i:i + chunk], target=target[i:i + chunk],
                                num_steps=self.config.num_steps, baseline=base, batch_size=s.batch_size)
                 for i in range(0, len(x), chunk)]
        return parts[0].fractions, torch.cat([p.scores for p in parts])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        methods = [k for k in METHODS if m[f"rank_corr_{k}"] is not None]
        if not methods:
            return Verdict("inconclusive", "Not measured: no attribution method's sanity check.")
        verdicts = {k: views.status(m, k, cfg) for k in methods}
        evidence = [k for k, (sane, beats) in verdicts.items() if sane and beats]
        not_evidence = [k for k, (sane, beats) in verdicts.items() if sane is False or beats is False]
        text = f"On {int(m['num_inputs'] or 0)} inputs: " + "; ".join(views.line(m, k, cfg) for k in methods)
        if evidence:
            return Verdict("fails", f"{text}. Evidence about the model: {', '.join(LABELS[k] for k in evidence)}.")
        if len(not_evidence) == len(methods):
            return Verdict("holds", f"{text}. No method's heatmaps are evidence about this model.")
        return Verdict("inconclusive", f"{text}. Undecided: an interval straddles its threshold.")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        return views.advice(verdict, m, self.config)


def correlation(trained: Tensor, other: Tensor) -> Tensor:
    """Spearman's correlation of |maps| per input; a constant trained map counts 1, a constant other map 0."""
    flat = trained.flatten(1).abs()
    constant = (flat == flat[:, :1]).all(1)
    return torch.where(constant, 1.0, rank_correlation(trained, other, absolute=True).double().nan_to_num(0.0))

