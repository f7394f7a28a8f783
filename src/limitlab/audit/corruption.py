"""Audit section "corruption": does this model's accuracy survive the common corruptions real inputs go through?

Hendrycks, Dietterich. ICLR 2019, arXiv:1903.12261 (CIFAR-10-C / ImageNet-C: corruptions at 5 graded
severities; the corruption error averaged over severities, and its rise from the clean error, the
"relative" CE); Croce et al. NeurIPS 2021 Datasets, arXiv:2010.09670 (RobustBench's corruption track:
accuracy averaged over corruptions and severities); Engstrom et al. ICML 2019, arXiv:1712.02779 (shifts
and rotations).

Protocol: the corruptions and severities of `limitlab.data.common_corruptions` (their magnitudes and
sources are there), applied in the unit box of the bounds, so a severity is the same fraction of each
channel's or feature's range on any data. Images (N x C x H x W): gaussian-noise, blur, shift, rotation,
brightness, contrast and jpeg (JPEG's DCT quantization, `limitlab.data.jpeg`: any channel count, float
values). Tables (N x D): feature-noise and missing-values (mean imputation). Every input is corrupted at
every severity 1..5; the random draws come from one named generator per corruption and severity. Per
corruption and severity: the accuracy (Clopper-Pearson interval) and the top-label ECE (bootstrap).
Per corruption: the severity at which the accuracy above chance (1/C) falls to half its clean value
(interpolated between severities, `limitlab.stats.curves`, severity 0 being clean; the largest severity
when it does not fall that far, i.e. censored there), and the mean accuracy drop over the severities
(clean minus mean corrupted accuracy: the numerator of Hendrycks' relative CE, not divided by a
reference model's); each with a bootstrap interval over inputs, one resample shared by all curves.
"Above chance" because a model that a corruption leaves guessing keeps 1/C: on 2 classes "half the
clean accuracy" could never be reached.
The examples: the most confidently wrong inputs at severity `fragile_at` that were right when clean.

Verdict: unreliable if the forward pass is not deterministic; inconclusive if the clean accuracy's 95%
interval does not lie above chance (nothing to halve). Holds (fragile to common corruptions) if for some
corruption the 95% interval of the halving severity lies at or below `fragile_at` (3, the middle of
the benchmark's five severities: a moderate corruption takes half of what the model knows); fails if
for every corruption that interval lies above 3; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from limitlab.audit import corruption_views as views
from limitlab.audit._common import (
    BootstrapConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    compare,
    interval,
    shown,
    untrusted,
    weights,
    with_intervals,
)
from limitlab.audit.examples import Gallery
from limitlab.audit.subject import Subject, outputs_of, subject_of
from limitlab.config import Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data import common_corruptions as cc
from limitlab.errors import ConfigError
from limitlab.result import Metrics, MetricValues, Result, Verdict
from limitlab.stats import curves, weighted
from limitlab.study import AUDIT_CHAPTER, register

SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class CorruptionConfig(BootstrapConfig):
    constraints: ClassVar = with_intervals(
        image_corruptions=Each(OneOf(tuple(cc.IMAGE)), min_len=1, unique=True),
        table_corruptions=Each(OneOf(tuple(cc.TABLE)), min_len=1, unique=True),
        severities=Each(OneOf(SEVERITIES), min_len=1, unique=True), fragile_at=Interval(0, 5, closed="neither"),
        bins=Interval(1), num_examples=Interval(0))
    image_corruptions: tuple[str, ...] = tuple(cc.IMAGE)  # those applied to images (N x C x H x W)
    table_corruptions: tuple[str, ...] = tuple(cc.TABLE)  # those applied to tables (N x D)
    severities: tuple[int, ...] = SEVERITIES
    fragile_at: float = 3.0  # the stated severity of the rule (and where the examples are taken)
    bins: int = 15
    num_examples: int = 8

    def validate(self) -> None:
        check(self.fragile_at < max(self.severities), f"fragile_at={self.fragile_at}; expected less than the "
              f"largest of severities={list(self.severities)} (beyond it a halving is not measured)")


def halving_severity(grid, acc: np.ndarray, chance: float) -> np.ndarray:
    """Per curve (rows of `acc` over `grid`, grid[0] = 0 clean), the severity at which the accuracy above
    `chance` falls to half its clean value, interpolated; the grid's end where it never does (censored)."""
    half = curves.halving_eps(grid, np.asarray(acc, np.float64) - chance)
    return np.where(np.isnan(half), float(grid[-1]), half)


def corrupted_logits(s: Subject, name: str, level: int, *, generator: torch.Generator,
                     stats: tuple[torch.Tensor, torch.Tensor] | None, gallery: Gallery | None,
                     clean: torch.Tensor) -> torch.Tensor:
    """The float64 logits on every input under corruption `name` at severity `level`, batch by batch (the
    gallery, if given, is offered each batch's corrupted inputs)."""
    b, out, (mean, std) = s.batch_size, [], stats or (None, None)
    for i in range(0, len(s.y), b):
        u = s.u[i:i + b]
        cu = cc.corrupt(u, name, level, mean=mean, std=std, generator=generator)
        z = outputs_of(s.unit, cu, batch=b).double()
        if gallery is not None:
            gallery.offer(torch.arange(i, i + len(u)), z, s.y[i:i + b], cu, name, clean[i:i + b])
        out.append(z)
    return torch.cat(out)


@register("audit-corruption", chapter=AUDIT_CHAPTER)
class Corruption(Section):
    """Accuracy and calibration under common corruptions at graded severities: see the module docstring."""

    claim = ("Is this model fragile to common corruptions: does noise, blur, a shift or rotation, a change of "
             "brightness or contrast, or JPEG compression (for tables: noisy or missing features) of moderate "
             "severity take away half of its accuracy above chance?")
    Config = CorruptionConfig
    presets = {"tiny": {"severities": (1, 3, 5), "num_bootstrap": 200, "num_examples": 6},
               "full": {"num_bootstrap": 4000}}

    @classmethod
    def missing(cls, subject) -> str | None:
        if subject.x.dim() not in (2, 4):
            return (f"needs images (N x C x H x W) or a table (N x D); the inputs are N x "
                    f"{' x '.join(map(str, subject.x.shape[1:]))}")
        return None

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        if (why := self.missing(s)) is not None:
            raise ConfigError(f"section 'corruption' cannot run on this model and data: {why}")
        names = cfg.image_corruptions if s.x.dim() == 4 else cfg.table_corruptions
        sev, n, chance = sorted(cfg.severities), len(s.y), 1 / s.num_classes
        grid = (0, *sev)
        show = min(v for v in sev if v >= cfg.fragile_at)
        clean = s.logits.argmax(1) == s.y
        stats = None if s.x.dim() == 4 else (s.u.mean(0), s.u.std(0))
        w = weights(n, num=cfg.num_bootstrap, rng=ctx.rng("corruption", "bootstrap"))
        m = Metrics()
        add_trust(m, s)
        add_share(m, "clean_acc", clean, "accuracy on the given inputs", level=cfg.level)
        m.add("chance_acc", chance, "fraction", "accuracy of guessing (1 / number of classes)")
        self.add_ece(m, "ece_clean", w, s.logits, clean, "ECE on the given inputs")
        m.add("bounds_inferred", float(s.bounds.inferred), "flag", "1: severities are fractions of inferred ranges")
        gallery, drops, acc = Gallery(cfg.num_examples), [], {}
        for c in ctx.progress.track(names, description="corruption: corruptions x severities"):
            hit = [clean.numpy()]
            for level in sev:
                z = corrupted_logits(s, c, level, generator=ctx.generator("corruption", c, level), stats=stats,
                                     gallery=gallery if level == show else None, clean=clean)
                right = z.argmax(1) == s.y
                add_share(m, f"acc_{c}_s{level}", right, f"accuracy under {c} at severity {level}", level=cfg.level)
                self.add_ece(m, f"ece_{c}_s{level}", w, z, right, f"ECE under {c} at severity {level}")
                hit.append(right.numpy())
            boot = w @ np.stack(hit, 1) / n  # (1 + B, 1 + severities): row 0 is the plain curve
            acc[c] = boot[0]
            half = halving_severity(grid, boot, chance)
            add_bootstrap(m, f"half_{c}", half[0], half[1:], "severity", f"severity at which {c} halves the accuracy "
                          f"above chance (interpolated; {sev[-1]}: not within the severities)", level=cfg.level)
            drops.append(boot[:, 0] - boot[:, 1:].mean(1))
            add_bootstrap(m, f"drop_{c}", drops[-1][0], drops[-1][1:], "fraction", f"clean accuracy minus the mean "
                          f"accuracy under {c} over severities {', '.join(map(str, sev))}", level=cfg.level)
        mean = np.mean(drops, axis=0)
        add_bootstrap(m, "mean_drop", mean[0], mean[1:], "fraction", "the accuracy drop averaged over the "
                      "corruptions (the numerator of Hendrycks' relative mCE, as accuracy)", level=cfg.level)
        figs = [views.curves_figure(grid, acc, m.view(), names, n=n, chance=chance, level=cfg.level,
                                    fragile_at=cfg.fragile_at)]
        figs += views.examples_figure(s, gallery, show)
        return self.result(ctx, metrics=m, figures=figs, tables=[views.summary_table(m.view(), names, sev, show)])

    def add_ece(self, m: Metrics, name: str, w: np.ndarray, logits: torch.Tensor, right: torch.Tensor,
                description: str) -> None:
        conf = torch.softmax(logits.double(), 1).amax(1).numpy()
        e = weighted.ece(w, conf, right.numpy().astype(np.float64), bins=self.config.bins)
        add_bootstrap(m, name, e[0], e[1:], "probability", description, level=self.config.level)

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        names = [k.removeprefix("half_") for k in m if k.startswith("half_")]
        if not names:
            return Verdict("inconclusive", "Not measured: no corruption was applied.")
        text = (f"Clean accuracy {shown(m, 'clean_acc', '.1%')}, ECE {shown(m, 'ece_clean')}; the accuracy above "
                f"chance halves at severity " + ", ".join(f"{c} {views.half_text(m, c)}" for c in names)
                + f"; mean accuracy drop over severities {shown(m, 'mean_drop', '.1%')}")
        if compare(m, "clean_acc", m["chance_acc"] or 1.0) is not True:
            return Verdict("inconclusive", f"{text}. The clean accuracy is not above chance: nothing to halve.")
        ivs = {c: interval(m, f"half_{c}") for c in names}
        fragile = [c for c, iv in ivs.items() if iv is not None and iv[1] <= cfg.fragile_at]
        if fragile:
            return Verdict("holds", f"{text}. Fragile: at severity {cfg.fragile_at:g} or less, {', '.join(fragile)} "
                                    f"take{'s' if len(fragile) == 1 else ''} half of its accuracy above chance.")
        if all(iv is not None and iv[0] > cfg.fragile_at for iv in ivs.values()):
            return Verdict("fails", f"{text}. No corruption halves it by severity {cfg.fragile_at:g}.")
        straddle = [c for c, iv in ivs.items() if iv is None or iv[0] <= cfg.fragile_at]
        return Verdict("inconclusive", f"{text}. The halving severity's interval straddles {cfg.fragile_at:g} for "
                                       f"{', '.join(straddle)}: more inputs would decide.")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        return views.advice(verdict, m, fragile_at=self.config.fragile_at)
