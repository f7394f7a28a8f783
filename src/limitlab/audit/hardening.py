"""Audit section "remedies": does a short adversarial fine-tuning on your training data make this model more robust?

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial attacks.
ICLR 2018, arXiv:1706.06083 (adversarial training: each batch replaced by its PGD examples, the inner
maximization of the robust objective; `limitlab.models.hooks.PGDTraining`); Andriushchenko et al. ECCV
2020, arXiv:1912.00049 (Square, gradient-free); Athalye, Carlini, Wagner. ICML 2018, arXiv:1802.00420
(a defence that only masks gradients looks robust to PGD and not to a gradient-free attack).

Protocol: a deep copy of the model (every parameter trainable; the user's model is never changed) is
fine-tuned on the `--train` data in the unit box of the test set's bounds (training values outside them
are clipped), where the robustness section attacks: Adam (`lr`), batches of `batch_size`, each batch
replaced by its PGD examples at `eps` (`train_steps` steps of train_step_ratio * eps / steps, random
start), for `epochs` epochs or `max_steps` optimizer steps, whichever comes first (the stated budget;
`limitlab.models.fit`, cached). Before and after, on the test inputs: the clean accuracy, the accuracy
under the robustness section's PGD at `eps` (`pgd_restarts` restarts of `pgd_steps` steps of
step_ratio * eps / steps), and under PGD then Square (`square_queries` queries at `eps` on the inputs
PGD left correct: AutoAttack's order, as the robustness section; Square on every input would cost
several times the fine-tuning), each attack drawing the same random numbers before and after.
Intervals: Clopper-Pearson for each accuracy, a paired bootstrap over the test inputs for each change.

Verdict: unreliable if the forward pass is not deterministic; inconclusive if the loss has no input
gradient (PGD can neither train nor attack). Holds (the fine-tuning helps) if the 95% interval of the
accuracy gained lies above 0 under PGD and under PGD then Square, both; fails (it does not help) if
either interval lies at or below 0 (a PGD gain that the gradient-free Square takes back is gradient
masking, not robustness); inconclusive otherwise. The clean accuracy it costs is reported, not judged.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from limitlab import figures
from limitlab.attacks.restarts import pgd_restarts
from limitlab.attacks.square import square
from limitlab.audit import advice, checks
from limitlab.audit._common import (
    AttackConfig,
    Section,
    add_bootstrap,
    add_share,
    add_trust,
    interval,
    shown,
    untrusted,
    weights,
)
from limitlab.audit.subject import Subject, outputs_of, subject_of
from limitlab.audit.sweep import each
from limitlab.config import Interval
from limitlab.context import Context
from limitlab.data.arrays import ArrayDataset
from limitlab.models.hooks import PGDTraining
from limitlab.models.train import TrainConfig, fit
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict
from limitlab.stats.binomial import clopper_pearson
from limitlab.study import AUDIT_CHAPTER, register

ATTACKS = ("clean", "pgd", "worst")
NAMES = {"clean": "clean accuracy", "pgd": "accuracy under PGD", "worst": "accuracy under PGD then Square"}
POSITIVE = Interval(0, closed="neither")


@dataclass(frozen=True)
class RemediesConfig(AttackConfig):  # the evaluation: the robustness section's PGD and Square
    constraints: ClassVar = {**AttackConfig.constraints, "eps": Interval(0, 1, closed="right"),
                             "epochs": Interval(1), "max_steps": Interval(1), "batch_size": Interval(1), "lr": POSITIVE,
                             "train_steps": Interval(1), "train_step_ratio": POSITIVE}
    eps: float = 0.1  # one of the robustness section's stated eps (a fraction of each value's range)
    epochs: int = 10
    max_steps: int = 500
    batch_size: int = 64
    lr: float = 1e-3
    train_steps: int = 7  # Madry et al.'s CIFAR-10 training attack: 7 steps of 2/255 at eps 8/255
    train_step_ratio: float = 1.75


@register("audit-remedies", chapter=AUDIT_CHAPTER)
class Remedies(Section):
    """Adversarial fine-tuning of a copy of the model, checked by PGD and Square: see the module docstring."""

    claim = ("Does a short adversarial fine-tuning on your training data (PGD in the training loop) make this "
             "model measurably more robust, under PGD and under a gradient-free attack alike?")
    labels: ClassVar = {"holds": ("helps", "holds"), "fails": ("does not help", "fails")}  # a remedy: good news
    Config = RemediesConfig
    presets = {"tiny": {"epochs": 1, "max_steps": 8, "train_steps": 3, "pgd_steps": 5, "pgd_restarts": 1,
                        "square_queries": 30, "num_bootstrap": 200},
               "full": {"epochs": 30, "max_steps": 5000, "pgd_steps": 40, "pgd_restarts": 8, "square_queries": 5000}}

    @classmethod
    def missing(cls, subject) -> str | None:
        return "needs --train FILE (labelled training inputs to fine-tune on)" if subject.train is None else None

    def run(self, ctx: Context) -> Result:
        s, cfg, m = subject_of(ctx), self.config, Metrics()
        add_trust(m, s)
        gradient = checks.gradient_health(s)["path"] == 1
        m.add("gradient_path", float(gradient), "flag", "1: the loss depends on the input through autograd")
        if s.train is None or not gradient:
            return self.result(ctx, metrics=m)
        tuned, steps = self.fine_tune(s, s.train, ctx)
        m.add("num_train", len(s.train[0]), "inputs", "training inputs fine-tuned on")
        m.add("steps", steps, "steps", "optimizer steps of adversarial fine-tuning")
        right = {"before": self.evaluate(s.unit, s, ctx), "after": self.evaluate(tuned, s, ctx)}
        w = weights(len(s.y), num=cfg.num_bootstrap, rng=ctx.rng("remedies", "bootstrap"))
        for a in ATTACKS:
            what = NAMES[a] + ("" if a == "clean" else f" at eps {cfg.eps:g}")
            for tag in ("before", "after"):
                add_share(m, f"{a}_{tag}", right[tag][a], f"{what}, {tag} the fine-tuning", level=cfg.level)
            gain = w @ (right["after"][a].astype(float) - right["before"][a]) / len(s.y)
            add_bootstrap(m, f"gain_{a}", gain[0], gain[1:], "fraction", f"{what} gained by the fine-tuning "
                          "(paired)", level=cfg.level)
        return self.result(ctx, metrics=m, figures=[self.figure(right, len(s.y))])

    def fine_tune(self, s: Subject, train: tuple[torch.Tensor, torch.Tensor], ctx: Context) -> tuple[nn.Module, int]:
        """A deep copy of `s.unit` (unit box -> logits) fine-tuned on `train` (raw x, y), and the steps it took."""
        cfg, (x, y) = self.config, train
        tuned = copy.deepcopy(s.unit)
        for p in tuned.parameters():
            p.requires_grad_(True)
        span = s.bounds.span  # the training inputs in the unit box of the test set's bounds, as `Subject.u`, clipped
        u = torch.where(span > 0, (x - s.bounds.lo) / span.clamp_min(1e-30), 0.0).clamp(0, 1)
        data = ArrayDataset(u, y, name="audit-train", num_classes=s.num_classes)
        history = fit(tuned, data, ctx=ctx, batch_hook=PGDTraining(cfg.eps, cfg.train_steps, cfg.train_step_ratio),
                      config=TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, patience=None,
                                         max_steps=cfg.max_steps, eval_train=False),
                      key={"eps": cfg.eps, "steps": cfg.train_steps, "ratio": cfg.train_step_ratio},
                      description="remedies: adversarial fine-tuning")
        return tuned, history.steps

    def evaluate(self, model: nn.Module, s: Subject, ctx: Context) -> dict[str, np.ndarray]:
        """Which test inputs `model` (unit box -> logits) gets right clean, under PGD, and under Square."""
        cfg, b, u, y = self.config, s.batch_size, s.u, s.y
        clean = outputs_of(model, u, batch=b).argmax(1) == y
        gen = ctx.generator("remedies", "pgd")  # the same starts before and after: a paired comparison
        adv = each(lambda a, t: pgd_restarts(model, a, t, eps=cfg.eps, steps=cfg.pgd_steps, restarts=cfg.pgd_restarts,
                                             step_ratio=cfg.step_ratio, generator=gen), u, y, batch=b)
        out = {"clean": clean.numpy(), "pgd": (clean & (outputs_of(model, adv, batch=b).argmax(1) == y)).numpy()}
        hit = torch.from_numpy(out["pgd"]).clone()
        idx = torch.nonzero(hit).flatten()  # Square attacks what PGD left correct, as in the robustness section
        if len(idx):
            gen = ctx.generator("remedies", "square")
            adv = each(lambda a, t: square(model, a, t, eps=cfg.eps, queries=cfg.square_queries,
                                           p_init=cfg.square_p_init, generator=gen), u[idx], y[idx], batch=b)
            hit[idx] = outputs_of(model, adv, batch=b).argmax(1) == y[idx]
        out["worst"] = hit.numpy()
        return out

    def figure(self, right: dict[str, dict[str, np.ndarray]], n: int) -> Figure:
        cfg, bars = self.config, []
        for tag in ("before", "after"):
            k = [int(right[tag][a].sum()) for a in ATTACKS]
            lo, hi = zip(*[clopper_pearson(c, n, level=cfg.level) for c in k])
            bars.append({"label": f"{tag} the fine-tuning", "values": [c / n for c in k],
                         "err": [[c / n - v for c, v in zip(k, lo)], [v - c / n for c, v in zip(k, hi)]]})
        return Figure("remedy", "Before and after adversarial fine-tuning", [figures.bars(
            ["clean", "PGD", "PGD, then Square"], bars, ylim=(0, 1.15),
            ylabel=f"test accuracy (attacks at eps {cfg.eps:g})")],
            caption=f"The same test inputs, attacks and random starts before and after; whiskers: {cfg.level:.0%} "
                    "Clopper-Pearson intervals. Square attacks the inputs PGD left correct: a PGD gain it takes back "
                    "would be masked gradients, not robustness.")

    def judge(self, m: MetricValues) -> Verdict:
        if (v := untrusted(m)) is not None:
            return v
        if m["gradient_path"] != 1:
            return Verdict("inconclusive", "Not measured: the loss has no gradient with respect to the input, so PGD "
                                           "can neither fine-tune nor attack the model.")
        parts = [f"{NAMES[a]} {shown(m, f'{a}_before', '.1%')} -> {shown(m, f'{a}_after', '.1%')} (change "
                 f"{shown(m, f'gain_{a}', '+.1%')})" for a in ATTACKS]
        text = (f"After {int(m['steps'] or 0)} steps of adversarial fine-tuning on {int(m['num_train'] or 0)} "
                f"training inputs: {'; '.join(parts)}")
        pgd, worst = interval(m, "gain_pgd"), interval(m, "gain_worst")
        if pgd is None or worst is None:
            return Verdict("inconclusive", f"{text}. Not measured: the gains' intervals.")
        if pgd[0] > 0 and worst[0] > 0:
            return Verdict("holds", f"{text}. It helps: robust accuracy rises under PGD, and Square does not take it "
                                    "back.")
        if pgd[1] <= 0 or worst[1] <= 0:
            return Verdict("fails", f"{text}. " + ("Square takes the PGD gain back: masked gradients, not robustness."
                                                   if pgd[0] > 0 else "Robust accuracy does not rise."))
        return Verdict("inconclusive", f"{text}. A gain's interval straddles 0.")

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        return advice.remedies(verdict, m, eps=self.config.eps)
