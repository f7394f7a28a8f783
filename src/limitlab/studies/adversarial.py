"""Adversarial examples: small input changes chosen by gradient ascent flip predictions.

Goodfellow, Shlens, Szegedy. Explaining and harnessing adversarial examples. ICLR 2015, arXiv:1412.6572.
Madry et al. Towards deep learning models resistant to adversarial attacks. ICLR 2018, arXiv:1706.06083.
Sources: 001 (the panda read as a gibbon), 002 (x <- x + eta dJ/dx), 003.

Protocol: logistic regression, an MLP and the CNN (the reference digits CNN other studies share) trained
on digits; on the test set, the attacks of `limitlab.attacks.suite` (gradient step, FGSM, PGD in L-inf and
L2 with and without random start, random noise of the same size; L2 attacks at the L2 size of an L-inf sign
perturbation) over a grid of eps. The headline eps is read off the curve (8x8 pixels are coarse, so an MNIST
eps means something else here): the smallest grid eps at which PGD (L-inf) halves the primary model's clean
accuracy, unless `eps` fixes it. Targeted PGD to every class on the primary model and PGD adversarial
training of it (the remedy, evaluated with PGD with random start) are run at that eps.

Verdict: with m the primary model (the last of `models`, the CNN by default) at the headline eps:
"flip" = the headline eps is small (<= `max_small_eps`, 0.3 by default: Madry et al.'s MNIST budget),
PGD (L-inf) accuracy there is <= half the clean accuracy, and random sign noise of the same size keeps
>= 90% of it; "confident" = wrong predictions under PGD have mean confidence >= 0.5; "iterate" = PGD
accuracy <= FGSM accuracy + 0.01 for every model; "targeted" = mean targeted success >= 0.5; "remedy" =
adversarial training raises PGD accuracy by >= 0.2 and lowers clean accuracy (when `adv_train`). The
claim holds if every part holds, fails if "flip" does not, and is inconclusive otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from limitlab import figures
from limitlab.attacks.suite import ATTACKS, attack
from limitlab.attacks.targeted import mean_off_diagonal, targeted_success
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.hooks import PGDTraining
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import plus, times
from limitlab.study import Study, register


@dataclass(frozen=True)
class AdversarialConfig(Checked):
    constraints: ClassVar = {
        "models": Each(OneOf(("logreg", "mlp", "cnn")), min_len=1, unique=True), "eps_grid": Each(Interval(0, 1)),
        "eps": Interval(0, 1, closed="right"), "max_small_eps": Interval(0, 1, closed="right"),
        "pgd_steps": Interval(1), "step_ratio": Interval(0, closed="neither"), "num_test": Interval(1, 360),
        "epochs": Interval(1), "adv_steps": Interval(1), "adv_epochs": Interval(1), "num_examples": Interval(1)}
    models: tuple[str, ...] = ("logreg", "mlp", "cnn")
    eps_grid: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
    eps: float | None = None  # headline eps (L-inf, pixels in [0, 1]); None: read off the PGD curve
    max_small_eps: float = 0.3  # the largest eps the verdict calls "small" (Madry et al.'s MNIST budget)
    pgd_steps: int = 10
    step_ratio: float = 2.5  # PGD step size = step_ratio * eps / pgd_steps (Madry et al.)
    num_test: int = 360  # the digits test set has 360 images
    epochs: int = 40
    adv_train: bool = True
    adv_steps: int = 3
    adv_epochs: int = 15
    num_examples: int = 8

    def validate(self) -> None:
        check(any(e > 0 for e in self.eps_grid), f"eps_grid={list(self.eps_grid)}; expected some eps > 0")
        check(self.num_examples <= self.num_test, f"num_examples={self.num_examples}; expected <= num_test")


def predict(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(predicted class, its probability) in eval mode; the model's mode is restored."""
    conf, pred = torch.softmax(predict_logits(model, x), dim=1).max(dim=1)
    return pred, conf


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    return float((predict(model, x)[0] == y).float().mean())


@register("adversarial", chapter="robustness", sources=("001", "002", "003"))
class Adversarial(Study[AdversarialConfig]):
    """Adversarial examples (Goodfellow et al. 2015; Madry et al. 2018). Sources: 001, 002, 003."""

    claim = ("Small input changes chosen by gradient ascent on the loss flip predictions with high confidence; "
             "iterating is stronger; a targeted attack reaches any class; adversarial training buys "
             "robustness at a cost in clean accuracy.")
    Config = AdversarialConfig
    presets = {
        "tiny": {"models": ("logreg", "cnn"), "eps_grid": (0.0, 0.1, 0.2), "pgd_steps": 5, "num_test": 64,
                 "epochs": 4, "adv_steps": 2, "adv_epochs": 2, "num_examples": 4},
        "full": {"eps_grid": (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3),
                 "pgd_steps": 40, "adv_steps": 10, "adv_epochs": 40},
    }

    def train(self, name: str, ctx: Context, *, robust_eps: float | None = None) -> nn.Module:
        """A model of `models` trained on digits, or (with `robust_eps`) the primary one adversarially trained."""
        cfg, data = self.config, digits()
        if name == "cnn" and robust_eps is None:
            return digits_cnn(ctx, epochs=cfg.epochs)  # the shared reference CNN (cached across studies)
        with ctx.seeded_torch("init", name if robust_eps is None else f"{name}-robust"):  # each arm its own stream
            model = build(name)
        if robust_eps is None:
            fit(model, data.train, val=data.val, ctx=ctx, description=f"train {name}",
                config=TrainConfig(epochs=cfg.epochs, lr=0.05 if name == "logreg" else 1e-3, eval_train=False))
        else:
            fit(model, data.train, ctx=ctx, batch_hook=PGDTraining(robust_eps, cfg.adv_steps, cfg.step_ratio),
                config=TrainConfig(epochs=cfg.adv_epochs, patience=None, eval_train=False), description="adv. training",
                key={"eps": robust_eps, "steps": cfg.adv_steps, "ratio": cfg.step_ratio})
        return model

    def attack(self, name: str, model: nn.Module, x: Tensor, y: Tensor, eps: float, gen: torch.Generator, *,
               targeted: bool = False) -> Tensor:
        return attack(name, model, x, y, eps=eps, steps=self.config.pgd_steps, step_ratio=self.config.step_ratio,
                      targeted=targeted, generator=gen)

    def run(self, ctx: Context) -> Result:
        cfg, data, p, m = self.config, digits(), self.config.models[-1], Metrics()
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        models = {name: self.train(name, ctx) for name in cfg.models}
        curves = {name: {a: [accuracy(model, self.attack(a, model, x, y, e, ctx.generator(a, e)), y)
                             for e in cfg.eps_grid] for a in ATTACKS}
                  for name, model in ctx.progress.track(models.items(), description="attack sweeps")}
        eps = self.headline_eps(curves[p]["pgd-inf"])
        m.add("headline_eps", eps, "pixels", "L-inf eps of the headline numbers (read off the PGD curve, or `eps`)")
        for name, model in models.items():
            m.add(f"clean_acc_{name}", accuracy(model, x, y), "fraction", f"test accuracy of {name}")
            for a in ("fgsm", "pgd-inf", "noise-sign"):
                x_a = self.attack(a, model, x, y, eps, ctx.generator(a, "headline"))
                m.add(f"acc_{a}_{name}", accuracy(model, x_a, y), "fraction", f"{name} accuracy under {a} at that eps")
        model = models[p]
        x_adv = self.attack("pgd-inf", model, x, y, eps, ctx.generator("pgd-inf", "headline"))
        pred, conf = predict(model, x_adv)
        wrong, delta = pred != y, (x_adv - x).flatten(1)
        m.add("wrong_confidence", float(conf[wrong].mean()) if wrong.any() else None, "probability", "mean confidence "
              "of the wrong predictions under PGD")
        m.add("delta_linf", float(delta.abs().max(1).values.mean()), "pixels", "mean L-inf size of PGD's change")
        m.add("delta_l2_relative", float((delta.norm(dim=1) / x.flatten(1).norm(dim=1)).mean()), "fraction",
              "mean ||x_adv - x||_2 / ||x||_2")
        success = targeted_success(model, x, y, num_classes=10, attack=lambda mod, xs, t: self.attack(
            "pgd-inf", mod, xs, t, eps, ctx.generator("targeted"), targeted=True))
        m.add("targeted_success", mean_off_diagonal(success), "fraction", "targeted PGD's mean success over pairs")
        if cfg.adv_train:
            robust = self.train(p, ctx, robust_eps=eps)
            clean = m.add("robust_clean_acc", accuracy(robust, x, y), "fraction", "clean accuracy of the "
                          "adversarially trained model").value
            x_r = self.attack("pgd-inf-rs", robust, x, y, eps, ctx.generator("remedy"))
            pgd_acc = m.add("robust_pgd_acc", accuracy(robust, x_r, y), "fraction", "its PGD accuracy").value
            x_f = self.attack("fgsm", robust, x, y, eps, None)
            m.add("robust_fgsm_acc", accuracy(robust, x_f, y), "fraction", "its accuracy under FGSM")
            m.add("robust_gain", pgd_acc - m[f"acc_pgd-inf_{p}"].value, "fraction", "PGD accuracy gained by it")
            m.add("clean_cost", m[f"clean_acc_{p}"].value - clean, "fraction", "clean accuracy lost by it")
        return self.result(ctx, metrics=m, figures=self.figures(curves, model, x, x_adv, pred, conf, success, eps))

    def headline_eps(self, pgd_curve: list[float]) -> float:
        """`eps` if set; else the smallest grid eps at which PGD halves the clean accuracy (else the largest)."""
        grid = self.config.eps_grid
        clean = pgd_curve[grid.index(0.0)] if 0.0 in grid else None
        halves = [e for e, acc in sorted(zip(grid, pgd_curve)) if e > 0 and clean is not None and acc <= clean / 2]
        return self.config.eps if self.config.eps is not None else (halves or [max(grid)])[0]

    def judge(self, m: MetricValues) -> Verdict:
        cfg, p = self.config, self.config.models[-1]
        clean, pgd, noise, eps = m[f"clean_acc_{p}"], m[f"acc_pgd-inf_{p}"], m[f"acc_noise-sign_{p}"], m["headline_eps"]
        parts = {"flip": every([at_most(eps, cfg.max_small_eps), at_most(pgd, times(clean, 0.5)),
                                 at_least(noise, times(clean, 0.9))]),
                 "confident": at_least(m["wrong_confidence"], 0.5),
                 "iterate": every(at_most(m[f"acc_pgd-inf_{n}"], plus(m[f"acc_fgsm_{n}"], 0.01)) for n in cfg.models),
                 "targeted": at_least(m["targeted_success"], 0.5)}
        text = (f"At eps={fmt(eps, 'g')} (L-inf, pixels in [0, 1]), PGD takes the {p} from {fmt(clean, '.1%')} to "
                f"{fmt(pgd, '.1%')} accuracy (random sign noise of that size: {fmt(noise, '.1%')}; FGSM: "
                f"{fmt(m[f'acc_fgsm_{p}'], '.1%')}); wrong answers at {fmt(m['wrong_confidence'], '.0%')} mean "
                f"confidence; targeted success {fmt(m['targeted_success'], '.0%')}")
        if cfg.adv_train:
            parts["remedy"] = every([at_least(m["robust_gain"], 0.2), at_least(m["clean_cost"], 0.0, noise=0.0)])
            text += (f"; adversarial training: PGD accuracy {fmt(pgd, '.1%')} -> {fmt(m['robust_pgd_acc'], '.1%')}, "
                     f"clean {fmt(clean, '.1%')} -> {fmt(m['robust_clean_acc'], '.1%')}")
        return Verdict.combine(parts, text, decisive=("flip",))

    def figures(self, curves, model, x, x_adv, pred, conf, success, eps: float) -> list[Figure]:
        k, names = self.config.num_examples, [str(i) for i in range(10)]
        clean_pred, clean_conf = predict(model, x[:k])
        label = lambda ps, cs: [f"{p} ({c:.0%})" for p, c in zip(ps[:k].tolist(), cs[:k].tolist())]  # noqa: E731
        return [Figure("accuracy-vs-eps", "Accuracy vs perturbation size", [
            figures.lines([figures.series(a, self.config.eps_grid, accs) for a, accs in c.items()], title=name,
                          xlabel="eps (L-inf; L2 attacks at eps·√64)", ylabel="test accuracy", ylim=(0, 1.02))
            for name, c in curves.items()],
            caption="Gradient-chosen perturbations (gradient step, FGSM, PGD) against random noise of the same size."),
            Figure("examples", f"Adversarial examples at eps = {eps:g} ({self.config.models[-1]}, PGD)", [
                figures.images(x[:k, 0], ncols=k, title="original", captions=label(clean_pred, clean_conf)),
                figures.images((x_adv[:k] - x[:k])[:, 0], ncols=k, title="perturbation", cmap="RdBu_r", vmin=-eps,
                               vmax=eps),
                figures.images(x_adv[:k, 0], ncols=k, title="adversarial", captions=label(pred, conf))],
                caption="Each column: a test digit, the change PGD made, and the result, with predicted class and "
                        "confidence."),
            Figure("targeted", "Targeted PGD success", [
                figures.matrix(success, rows=names, cols=names, xlabel="target class", ylabel="true class", vmin=0,
                               vmax=1, title=f"eps = {eps:g}")],
                caption="Fraction of test digits of each class turned into each target class (diagonal: already "
                        "that class).")]
