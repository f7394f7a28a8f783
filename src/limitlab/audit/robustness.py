"""Audit section "robustness": how fragile is this model to small input changes, and can that be measured?

Goodfellow, Shlens, Szegedy. ICLR 2015, arXiv:1412.6572 (FGSM); Madry et al. ICLR 2018,
arXiv:1706.06083 (PGD with random restarts); Andriushchenko et al. ECCV 2020, arXiv:1912.00049 (Square,
gradient-free); Athalye, Carlini, Wagner. ICML 2018, arXiv:1802.00420 (the symptoms of masked gradients,
`limitlab.audit.masking`); Carlini et al. arXiv:1902.06705 (report the whole curve).

Protocol: every attack works in L-inf in the unit box of the bounds, so eps is a fraction of each
feature's (or channel's) range, and with `--normalize` the attack changes the raw input. On every
input, over the eps grid and at the whole box (`unbounded_eps` = 1): FGSM; PGD with `pgd_restarts`
random restarts of `pgd_steps` steps of `step_ratio` * eps / steps, only inputs still correct attacked
again (4 restarts of 10 steps by default: on digits MLP / CNN models, 10, 20 and 40 steps gave the same
accuracy, and 4 restarts came within 2 inputs of 8 at every eps, `benchmarks/bench_audit.py`); random
sign noise; Square (`square_queries` queries) on the inputs PGD left correct. An input counts as robust
at an eps when it is classified correctly clean and under every attack (the worst case). The headline:
the worst-case accuracy at the stated `headline_eps`, the eps at which it falls to half the clean
accuracy (interpolated; `limitlab.stats.curves`) and the area under the curve up to the largest grid
eps, each with a 95% interval (Clopper-Pearson for accuracies, a bootstrap over inputs otherwise).

Verdict: unreliable if the forward pass is not deterministic, the model has no input gradient, or any
symptom of gradient masking shows (zero or NaN loss gradients on more than 1% of the inputs, FGSM
lowering the accuracy at no grid eps, FGSM / sign noise / Square beating PGD at some eps, PGD over the whole
box leaving inputs correct, PGD accuracy rising with eps; "beating" = at least max(2, 1% of the
inputs) more fooled). Otherwise inconclusive if the clean accuracy's interval does not lie above chance
(1/C); holds (the model is fragile) if the interval of the halving eps lies below `small` (10% of the
range) and sign noise at the first grid eps where the accuracy is halved keeps >= `noise_keeps` (90%) of
the clean accuracy; fails (not fragile) if that interval lies above `small`; inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.pgd_restarts import pgd_restarts
from limitlab.attacks.sign_noise import sign_noise
from limitlab.attacks.square import square
from limitlab.audit import checks, masking
from limitlab.audit.robustness_views import accuracy_figure, counts_table
from limitlab.audit._common import Section, add_bootstrap, add_share, compare, shown, untrusted, weights
from limitlab.audit.subject import BATCH, outputs_of, subject_of
from limitlab.config import Checked, Each, Interval, check
from limitlab.context import Context
from limitlab.result import Metrics, MetricValues, Result, Verdict, at_least
from limitlab.stats import curves
from limitlab.study import AUDIT_CHAPTER, register

FRACTION = Interval(0, 1, closed="right")


@dataclass(frozen=True)
class RobustnessConfig(Checked):
    constraints: ClassVar = {
        "eps_grid": Each(FRACTION, min_len=1, unique=True), "headline_eps": Each(FRACTION, unique=True),
        "small": FRACTION, "pgd_steps": Interval(1), "pgd_restarts": Interval(1),
        "step_ratio": Interval(0, closed="neither"), "square_queries": Interval(1), "square_p_init": FRACTION,
        "unbounded_eps": FRACTION, "noise_keeps": Interval(0, 1),
        "max_bad_gradients": Interval(0, 1), "num_bootstrap": Interval(10), "level": Interval(0, 1, closed="neither")}
    eps_grid: tuple[float, ...] = (0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3)  # fractions of each value's range
    headline_eps: tuple[float, ...] = (0.03, 0.1, 0.3)  # 0.03 ~ 8/255 (CIFAR-10), 0.1 and 0.3 (MNIST)
    small: float = 0.1
    pgd_steps: int = 10
    pgd_restarts: int = 4
    step_ratio: float = 2.5
    square_queries: int = 1000
    square_p_init: float = 0.8
    unbounded_eps: float = 1.0  # the whole input box: any input is reachable, so PGD must reach 0%
    noise_keeps: float = 0.9
    max_bad_gradients: float = checks.MAX_BAD_GRADIENTS
    num_bootstrap: int = 1000
    level: float = 0.95

    def validate(self) -> None:
        check(set(self.headline_eps) <= set(self.eps_grid), f"headline_eps={list(self.headline_eps)}; expected "
              f"values of eps_grid={list(self.eps_grid)}")
        check(self.unbounded_eps > max(self.eps_grid), f"unbounded_eps={self.unbounded_eps}; expected more than "
              f"the largest eps of the grid ({max(self.eps_grid)})")


def _each(fn, *tensors: Tensor) -> Tensor:
    """fn over `BATCH`-sized chunks of the tensors, concatenated (memory stays flat in N)."""
    return torch.cat([fn(*(t[i:i + BATCH] for t in tensors)) for i in range(0, len(tensors[0]), BATCH)])


@register("audit-robustness", chapter=AUDIT_CHAPTER)
class Robustness(Section):
    """Adversarial robustness with masking checks (FGSM, PGD with restarts, noise, Square): see the module."""

    claim = ("Is this model fragile: does a change of a small fraction of each feature's range, chosen by the "
             "gradient, halve its accuracy where random noise of the same size does not, and can the attack be "
             "trusted (no sign of masked gradients)?")
    Config = RobustnessConfig
    presets = {"tiny": {"eps_grid": (0.05, 0.1, 0.3), "headline_eps": (0.1, 0.3), "pgd_steps": 5, "pgd_restarts": 1,
                        "square_queries": 30, "num_bootstrap": 200},
               "full": {"pgd_steps": 40, "pgd_restarts": 8, "square_queries": 5000}}

    def attacks(self, s, eps: float, ctx: Context, gradient: bool) -> dict[str, Tensor]:
        """Per attack, which inputs it leaves classified correctly at eps (clean-correct ones only)."""
        cfg, model, u, y = self.config, s.unit, s.u, s.y
        clean = s.logits.argmax(1) == y
        right = lambda adv: clean & (outputs_of(model, adv).argmax(1) == y)  # noqa: E731
        gen = {a: ctx.generator("robustness", a, eps) for a in ("pgd", "noise", "square")}
        out = {"noise": right(_each(lambda a: sign_noise(a, eps=eps, generator=gen["noise"]), u))}
        if gradient:
            out["fgsm"] = right(_each(lambda a, b: fgsm(model, a, b, eps=eps), u, y))
            out["pgd"] = right(_each(lambda a, b: pgd_restarts(
                model, a, b, eps=eps, steps=cfg.pgd_steps, restarts=cfg.pgd_restarts, step_ratio=cfg.step_ratio,
                generator=gen["pgd"]), u, y))
        alive = out.get("pgd", clean).clone()
        if alive.any():
            idx = torch.nonzero(alive).flatten()
            adv = _each(lambda a, b: square(model, a, b, eps=eps, queries=cfg.square_queries,
                                             p_init=cfg.square_p_init, generator=gen["square"]), u[idx], y[idx])
            alive[idx] = outputs_of(model, adv).argmax(1) == y[idx]
        out["square"] = alive
        return out

    def run(self, ctx: Context) -> Result:
        s, cfg = subject_of(ctx), self.config
        grads = checks.gradient_health(s)
        gradient = grads["path"] == 1
        grid = (0.0, *sorted(cfg.eps_grid), cfg.unbounded_eps)
        clean = s.logits.argmax(1) == s.y
        right = {a: [clean] for a in (("fgsm", "pgd") if gradient else ()) + ("noise", "square")}
        for eps in ctx.progress.track(grid[1:], description="robustness: attacks over eps"):
            for a, flags in self.attacks(s, eps, ctx, gradient).items():
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
        for e in cfg.headline_eps:
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
        m.add("nondeterministic_share", checks.nondeterministic_share(s), "fraction",
              "inputs whose eval-mode output changes between passes")
        m.add("gradient_path", grads["path"], "flag", "1: the loss depends on the input through autograd")
        m.add("bad_grad_share", grads["zero"] + grads["nan"], "fraction", "inputs with a zero or NaN/Inf loss gradient")
        found = masking.flags(counts, n=n, bad_gradient_share=grads["zero"] + grads["nan"],
                              max_bad=cfg.max_bad_gradients, square_extra=extra)
        for name, value in found.items():
            m.add(f"flag_{name}", None if value is None else float(value), "flag", f"1: {masking.FLAGS[name]}")
        return self.result(ctx, metrics=m, figures=[accuracy_figure(grid, hit, worst, level=cfg.level)],
                           tables=[counts_table(grid, counts, extra, n, s.bounds.span)])

    def judge(self, m: MetricValues) -> Verdict:
        cfg = self.config
        if (v := untrusted(m)) is not None:
            return v
        text = (f"Clean accuracy {shown(m, 'clean_acc', '.1%')}; worst-case accuracy "
                + ", ".join(f"{shown(m, f'acc_eps_{e:g}', '.1%')} at eps {e:g}" for e in cfg.headline_eps)
                + f" (fractions of the range); it halves at eps {shown(m, 'eps_half', '.3f')}; "
                  f"area under the curve {shown(m, 'auc', '.3f')}")
        if m["gradient_path"] == 0:
            return Verdict("unreliable", f"{text}. The loss has no gradient with respect to the input, so FGSM and "
                                         "PGD could not run: the accuracy is what noise and Square left, an upper "
                                         "bound.")
        raised = [masking.FLAGS[k] for k in masking.FLAGS if m[f"flag_{k}"]]
        if raised:
            return Verdict("unreliable", f"{text}. Unreliable evaluation, masked gradients suspected: "
                                         f"{'; '.join(raised)}. The true robustness is likely lower.")
        if any(m[f"flag_{k}"] is None for k in masking.FLAGS):
            return Verdict("inconclusive", f"{text}. Not measured: the gradient-masking checks.")
        if compare(m, "clean_acc", m["chance_acc"] or 1.0) is not True:
            return Verdict("inconclusive", f"{text}. The clean accuracy is not above chance: nothing to halve.")
        above = compare(m, "eps_half", cfg.small)
        fragile = None if above is None else not above
        keep = None if m["clean_acc"] is None else cfg.noise_keeps * m["clean_acc"]
        specific = at_least(m["acc_noise_at_half"], keep)
        return Verdict.combine({"fragile": fragile, "noise-specific": specific}, text, decisive=("fragile",), missing={
            "fragile": (f"Not fragile: the halving eps lies above {cfg.small:g} of the range." if fragile is False else
                        f"The halving eps's interval straddles {cfg.small:g} of the range."),
            "noise-specific": f"Sign noise of that size also costs over {1 - cfg.noise_keeps:.0%} of the accuracy: "
                              "fragile, but not specifically to gradient-chosen changes."})
