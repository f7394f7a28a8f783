"""Audit section "robustness": how fragile is this model to small input changes, and can that be measured?

Goodfellow, Shlens, Szegedy. ICLR 2015, arXiv:1412.6572 (FGSM); Madry et al. ICLR 2018,
arXiv:1706.06083 (PGD with random restarts); Andriushchenko et al. ECCV 2020, arXiv:1912.00049 (Square,
gradient-free); Athalye, Carlini, Wagner. ICML 2018, arXiv:1802.00420 (the symptoms of masked gradients,
`limitlab.audit.masking`); Carlini et al. arXiv:1902.06705 (report the whole curve).

Protocol: every attack works in L-inf in the unit box of the bounds, so eps is a fraction of each
feature's (or channel's) range, and with `--normalize` the attack changes the raw input. On every input,
over the eps grid and at the whole box (`unbounded_eps` = 1): FGSM; PGD with `pgd_restarts` random
restarts of `pgd_steps` steps of `step_ratio` * eps / steps, only inputs still correct attacked again (4
restarts of 10 steps by default: on digits MLP / CNN models, 10, 20 and 40 steps gave the same accuracy,
and 4 restarts came within 2 inputs of 8 at every eps, `benchmarks/bench_audit.py`); random sign noise;
and at the stated eps (`square_eps`), Square with `square_queries` queries on every input the model gets
right, on its own (at every grid eps it costs more forward passes than all the rest together). An input
counts as robust at an eps when it is classified correctly clean and under every attack (the worst
case). The headline: the worst-case accuracy at the stated eps (0.03, 0.1 and 0.3 of the range), the eps
at which it falls to half the clean accuracy (interpolated; `limitlab.stats.curves`) and the area under
the curve up to the largest grid eps, each with a 95% interval (Clopper-Pearson for accuracies, a
bootstrap over inputs otherwise).

Verdict: unreliable if the forward pass is not deterministic or the model has no input gradient;
inconclusive if the clean accuracy's 95% interval does not lie above chance (1/C: nothing to attack);
unreliable if any symptom of gradient masking shows (zero or NaN loss gradients on more than 1% of the
inputs, FGSM lowering the accuracy at no grid eps, FGSM / sign noise / Square beating PGD at some eps,
PGD over the whole box leaving inputs correct, PGD accuracy rising with eps; "beating" = at least
max(2, 1% of the inputs) more fooled, each attack on its own: Athalye et al.'s "black-box attacks are
better than white-box"). Otherwise holds (the model is fragile) if the interval of the
halving eps lies below `small` (10% of the range) and sign noise at the first grid eps where the
accuracy is halved keeps >= `noise_keeps` (90%) of the clean accuracy; fails (not fragile) if that
interval lies above `small`; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from limitlab.audit import checks, masking
from limitlab.audit import robustness_views as views
from limitlab.audit._common import (
    AttackConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    compare,
    shown,
    untrusted,
    weights,
)
from limitlab.audit.subject import subject_of
from limitlab.audit.sweep import sweep
from limitlab.config import Each, Interval, check
from limitlab.context import Context
from limitlab.result import Metrics, MetricValues, Result, Verdict, at_least
from limitlab.stats import curves
from limitlab.study import AUDIT_CHAPTER, register

FRACTION = Interval(0, 1, closed="right")
STATED = (0.03, 0.1, 0.3)  # 0.03 ~ 8/255 (CIFAR-10's budget), 0.1 and 0.3 (MNIST's)


@dataclass(frozen=True)
class RobustnessConfig(AttackConfig):
    constraints: ClassVar = {**AttackConfig.constraints, "eps_grid": Each(FRACTION, min_len=1, unique=True),
                             "headline_eps": Each(FRACTION, unique=True), "square_eps": Each(FRACTION, unique=True),
                             "small": FRACTION, "unbounded_eps": FRACTION, "noise_keeps": Interval(0, 1),
                             "max_bad_gradients": Interval(0, 1)}
    eps_grid: tuple[float, ...] = (0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3)  # fractions of each value's range
    headline_eps: tuple[float, ...] | None = None  # None: those of STATED on the grid (else the grid's largest)
    small: float = 0.1
    square_eps: tuple[float, ...] | None = None  # where Square runs; None: the stated eps
    unbounded_eps: float = 1.0  # the whole input box: any input is reachable, so PGD must reach 0%
    noise_keeps: float = 0.9
    max_bad_gradients: float = checks.MAX_BAD_GRADIENTS

    def validate(self) -> None:
        for name in ("headline_eps", "square_eps"):
            chosen = list(getattr(self, name) or ())
            check(set(chosen) <= set(self.eps_grid), f"{name}={chosen}; expected values of "
                  f"eps_grid={list(self.eps_grid)}")
        check(self.unbounded_eps > max(self.eps_grid), f"unbounded_eps={self.unbounded_eps}; expected more than "
              f"the largest eps of the grid ({max(self.eps_grid)})")

    @property
    def stated(self) -> tuple[float, ...]:
        """The eps whose worst-case accuracy is a headline number."""
        if self.headline_eps is not None:
            return tuple(sorted(self.headline_eps))
        return tuple(e for e in STATED if e in self.eps_grid) or (max(self.eps_grid),)

    @property
    def square_at(self) -> tuple[float, ...]:
        return tuple(sorted(self.square_eps)) if self.square_eps is not None else self.stated


@register("audit-robustness", chapter=AUDIT_CHAPTER)
class Robustness(Section):
    """Adversarial robustness with masking checks (FGSM, PGD with restarts, noise, Square): see the module."""

    claim = ("Is this model fragile: does a change of a small fraction of each feature's range, chosen by the "
             "gradient, halve its accuracy where random noise of the same size does not, and can the attack be "
             "trusted (no sign of masked gradients)?")
    Config = RobustnessConfig
    presets = {"tiny": {"eps_grid": (0.05, 0.1, 0.3), "pgd_steps": 5, "pgd_restarts": 1,
                        "square_queries": 30, "num_bootstrap": 200},
               "full": {"pgd_steps": 40, "pgd_restarts": 8, "square_queries": 5000}}

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        grads = checks.gradient_health(s)
        gradient = grads["path"] == 1
        grid = (0.0, *sorted(cfg.eps_grid), cfg.unbounded_eps)
        clean = s.logits.argmax(1) == s.y
        right = {a: [clean] for a in (("fgsm", "pgd") if gradient else ()) + ("noise", "square")}
        kept = views.example_gallery(s)  # the most confidently wrong PGD inputs of one eps, for the report
        shown_at = views.example_eps(cfg.stated, cfg.small)
        for eps in ctx.progress.track(grid[1:], description="robustness: attacks over eps"):
            for a, flags in sweep(s, eps, cfg, ctx, gradient=gradient, with_square=eps in cfg.square_at,
                                  keep=kept if eps == shown_at else None).items():
                right[a].append(flags)
        hit = {a: torch.stack(v, 1).numpy() for a, v in right.items()}  # (n, k) correct per eps
        worst = np.logical_and.reduce(list(hit.values()))
        counts = {a: v.sum(0).astype(int).tolist() for a, v in hit.items()}
        attacked = hit["pgd"] if gradient else np.broadcast_to(hit["square"][:, :1], worst.shape)  # what Square got
        extra = (attacked & ~hit["square"]).sum(0).astype(int).tolist()
        m = Metrics()
        n = len(s.y)
        add_share(m, "clean_acc", clean, "accuracy on the given inputs", level=cfg.level)
        m.add("chance_acc", 1 / s.num_classes, "fraction", "accuracy of guessing (1 / number of classes)")
        for e in cfg.stated:
            add_share(m, f"acc_eps_{e:g}", worst[:, grid.index(e)], f"worst-case accuracy at eps {e:g} of the range",
                      level=cfg.level)
        w = weights(n, num=cfg.num_bootstrap, rng=ctx.rng("robustness", "bootstrap"))
        boot = w @ worst / n
        half = curves.halving_eps(grid, boot)
        add_bootstrap(m, "eps_half", half[0], half[1:], "fraction of range", "eps at which the worst-case accuracy "
                      "falls to half the clean accuracy", level=cfg.level)
        auc = curves.area(grid[:-1], boot[:, :-1])
        add_bootstrap(m, "auc", auc[0], auc[1:], "fraction", f"area under the worst-case curve over [0, "
                      f"{max(cfg.eps_grid):g}], over {max(cfg.eps_grid):g} (the mean accuracy)", level=cfg.level)
        k = curves.first_halving_index(grid, boot[0])
        m.add("acc_noise_at_half", None if k is None else counts["noise"][k] / n, "fraction",
              "accuracy under sign noise at the first grid eps where the worst case is halved")
        if gradient:
            add_share(m, "acc_unbounded_pgd", hit["pgd"][:, -1], "PGD accuracy over the whole input box",
                      level=cfg.level)
        add_trust(m, s)
        m.add("bounds_inferred", float(s.bounds.inferred), "flag", "1: eps is a fraction of ranges inferred from data")
        m.add("gradient_path", grads["path"], "flag", "1: the loss depends on the input through autograd")
        m.add("bad_grad_share", grads["zero"] + grads["nan"], "fraction", "inputs with a zero or NaN/Inf loss gradient")
        found = masking.flags(counts, n=n, bad_gradient_share=grads["zero"] + grads["nan"],
                              max_bad=cfg.max_bad_gradients)
        for name, value in found.items():
            m.add(f"flag_{name}", None if value is None else float(value), "flag", f"1: {masking.FLAGS[name]}")
        ran = [e in cfg.square_at for e in grid]
        return self.result(ctx, metrics=m, figures=[views.accuracy_figure(grid, hit, worst, level=cfg.level, ran=ran),
                                                    *views.adversarial_examples(s, kept, shown_at)],
                           tables=[views.counts_table(grid, counts, extra, n, s.bounds.span,
                                                strength=cfg.strength(cfg.square_at), ran=ran)])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        text = (f"Clean accuracy {shown(m, 'clean_acc', '.1%')}; worst-case accuracy "
                + ", ".join(f"{shown(m, f'acc_eps_{e:g}', '.1%')} at eps {e:g}" for e in cfg.stated)
                + f" (fractions of each feature's {'inferred ' if m['bounds_inferred'] else ''}range); it halves at "
                  f"eps {shown(m, 'eps_half', '.3f')}; "
                  f"area under the curve {shown(m, 'auc', '.3f')}")
        if m["gradient_path"] == 0:
            return Verdict("unreliable", f"{text}. The loss has no gradient with respect to the input, so FGSM and "
                                         "PGD could not run: the accuracy is what noise and Square left, an upper "
                                         "bound.")
        if compare(m, "clean_acc", m["chance_acc"] or 1.0) is not True:
            return Verdict("inconclusive", f"{text}. The clean accuracy is not above chance: nothing to attack or "
                                           "halve.")
        raised = [masking.FLAGS[k] for k in masking.FLAGS if m[f"flag_{k}"]]
        if raised:
            return Verdict("unreliable", f"{text}. Unreliable evaluation, masked gradients suspected: "
                                         f"{'; '.join(raised)}. The true robustness is likely lower.")
        if any(m[f"flag_{k}"] is None for k in masking.FLAGS):
            return Verdict("inconclusive", f"{text}. Not measured: the gradient-masking checks.")
        above = compare(m, "eps_half", cfg.small)
        fragile = None if above is None else not above
        keep = None if m["clean_acc"] is None else cfg.noise_keeps * m["clean_acc"]
        specific = at_least(m["acc_noise_at_half"], keep)
        return Verdict.combine({"fragile": fragile, "noise-specific": specific}, text, decisive=("fragile",), missing={
            "fragile": (f"Not fragile: the halving eps lies above {cfg.small:g} of the range." if fragile is False else
                        f"The halving eps's interval straddles {cfg.small:g} of the range."),
            "noise-specific": f"Sign noise of that size also costs over {1 - cfg.noise_keeps:.0%} of the accuracy: "
                              "fragile, but not specifically to gradient-chosen changes."})

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        from limitlab.audit import advice

        return advice.robustness(verdict, m, stated=self.config.stated, small=self.config.small)
