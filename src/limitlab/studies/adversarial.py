"""Adversarial examples: small input changes chosen by gradient ascent flip predictions.

Goodfellow, Shlens, Szegedy. Explaining and harnessing adversarial examples. ICLR 2015,
arXiv:1412.6572. Madry et al. Towards deep learning models resistant to adversarial attacks. ICLR 2018,
arXiv:1706.06083. Sources: 001 (the panda read as a gibbon), 002 (x <- x + eta dJ/dx), 003.

Protocol: logistic regression, an MLP and the CNN (the reference digits CNN other studies share)
trained on digits; on the test set, the plain
gradient step (unit L2 gradient), FGSM, PGD in L-inf and L2 (with and without random start) and
random noise of the same size, over a grid of eps. L-inf attacks use eps directly; L2 attacks use
eps * sqrt(d), the L2 norm of an L-inf sign perturbation of size eps, so both families move the
input by the same Euclidean distance. The headline eps is read off the curve (the catalog's pitfall:
8x8 pixels are coarse, so a published MNIST eps means something else here): the smallest eps of the grid
at which PGD (L-inf) halves the primary model's clean accuracy, unless `eps` fixes it. Targeted PGD to
every class on the primary model and PGD adversarial training of the primary model (the remedy,
evaluated with PGD with random start) are run at that eps.

Verdict: with m the primary model (the last of `models`, the CNN by default) at the headline eps:
"flip" = the headline eps is small (<= `max_small_eps`, 0.3 by default: Madry et al.'s MNIST budget),
PGD (L-inf) accuracy there is <= half the clean accuracy, and random sign noise of the same size keeps
>= 90% of it; "confident" = wrong predictions under PGD have mean confidence >= 0.5; "iterate" = PGD
accuracy <= FGSM accuracy + 0.01 for every model; "targeted" = mean targeted success >= 0.5; "remedy" =
adversarial training raises PGD accuracy by >= 0.2 and lowers clean accuracy (when `adv_train`). The
claim holds if every part holds, fails if "flip" does not, and is inconclusive otherwise.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab import attacks, figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, build, fit
from limitlab.models.reference import digits_cnn
from limitlab.result import Figure, Metric, Result, Verdict
from limitlab.study import Study, register

ATTACKS = ("gradient-l2", "fgsm", "pgd-inf", "pgd-inf-rs", "pgd-l2", "pgd-l2-rs", "noise-sign", "noise-l2")


@dataclass(frozen=True)
class AdversarialConfig:
    models: tuple[str, ...] = ("logreg", "mlp", "cnn")
    eps_grid: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
    eps: float | None = None  # headline eps (L-inf, pixels in [0, 1]); None: read off the PGD curve
    max_small_eps: float = 0.3  # the largest eps the verdict calls "small" (Madry et al.'s MNIST budget)
    pgd_steps: int = 10
    step_ratio: float = 2.5  # PGD step size = step_ratio * eps / pgd_steps (Madry et al.)
    num_test: int = 360
    epochs: int = 40
    adv_train: bool = True
    adv_steps: int = 3
    adv_epochs: int = 15
    num_examples: int = 8

    def __post_init__(self) -> None:
        check(len(self.models) >= 1, "models is empty; expected at least one of logreg, mlp, cnn")
        check(all(e >= 0 for e in self.eps_grid), f"eps_grid={self.eps_grid}; expected values >= 0")
        check(self.eps is None or 0 < self.eps <= 1, f"eps={self.eps}; expected 0 < eps <= 1 or none")
        check(any(e > 0 for e in self.eps_grid), f"eps_grid={self.eps_grid}; expected some eps > 0")
        check(self.pgd_steps >= 1 and self.adv_steps >= 1, "pgd_steps and adv_steps must be >= 1")
        check(1 <= self.num_test <= 360, f"num_test={self.num_test}; expected 1..360 (the digits test set)")
        check(self.epochs >= 1 and self.adv_epochs >= 1, "epochs and adv_epochs must be >= 1")


class PGDTraining:
    """Batch hook for adversarial training: replace each batch by its PGD (L-inf, random start) version."""

    def __init__(self, eps: float, steps: int, step_ratio: float) -> None:
        self.eps, self.steps, self.step_size = eps, steps, step_ratio * eps / steps

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        return attacks.pgd(model, x, y, eps=self.eps, step_size=self.step_size, steps=self.steps,
                           random_start=True, generator=gen), y


@torch.no_grad()
def predict(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(predicted class, its probability) in eval mode."""
    model.eval()
    conf, pred = torch.softmax(model(x), dim=1).max(dim=1)
    return pred, conf


def attack(name: str, model: nn.Module, x: Tensor, y: Tensor, eps: float, cfg: AdversarialConfig,
           gen: torch.Generator) -> Tensor:
    """Run one named attack at L-inf size eps (L2 attacks at the matching L2 size eps * sqrt(d))."""
    if eps == 0:
        return x
    eps2 = eps * math.sqrt(x[0].numel())
    steps = cfg.pgd_steps
    if name == "gradient-l2":
        return attacks.gradient_step(model, x, y, eta=eps2, normalize=True)
    if name == "fgsm":
        return attacks.fgsm(model, x, y, eps=eps)
    if name.startswith("pgd"):
        size = eps if "inf" in name else eps2
        return attacks.pgd(model, x, y, eps=size, step_size=cfg.step_ratio * size / steps, steps=steps,
                           norm="inf" if "inf" in name else "2", random_start=name.endswith("-rs"), generator=gen)
    if name == "noise-sign":
        noise = torch.randint(0, 2, x.shape, generator=gen).to(x.dtype) * 2 - 1
        return (x + eps * noise).clamp(0, 1)
    noise = torch.randn(x.shape, generator=gen)
    return (x + eps2 * noise / noise.flatten(1).norm(dim=1).view(-1, 1, 1, 1)).clamp(0, 1)


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

    def train(self, name: str, ctx: Context) -> nn.Module:
        data, cfg = digits(), self.config
        if name == "cnn":
            return digits_cnn(ctx, epochs=cfg.epochs)  # the shared reference CNN (cached across studies)
        model = build(name)
        lr = 0.05 if name == "logreg" else 1e-3
        fit(model, data.train, val=data.val, ctx=ctx, config=TrainConfig(epochs=cfg.epochs, lr=lr, eval_train=False),
            description=f"train {name}")
        return model

    def train_robust(self, ctx: Context, eps: float) -> nn.Module:
        data, cfg = digits(), self.config
        model = build(cfg.models[-1])
        hook = PGDTraining(eps, cfg.adv_steps, cfg.step_ratio)
        fit(model, data.train, ctx=ctx, batch_hook=hook, description="adversarial training",
            config=TrainConfig(epochs=cfg.adv_epochs, patience=None, eval_train=False),
            key={"eps": eps, "steps": cfg.adv_steps, "ratio": cfg.step_ratio})
        return model

    def run(self, ctx: Context) -> Result:
        cfg, data = self.config, digits()
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        models = {name: self.train(name, ctx) for name in cfg.models}
        primary = cfg.models[-1]
        curves: dict[str, dict[str, list[float]]] = {}
        for name, model in ctx.progress.track(models.items(), description="attack sweeps"):
            curves[name] = {a: [float((predict(model, attack(a, model, x, y, e, cfg, ctx.generator(a, e)))[0] == y)
                                      .float().mean()) for e in cfg.eps_grid] for a in ATTACKS}
        eps = self.headline_eps(curves[primary]["pgd-inf"])
        metrics: dict[str, Metric | float | tuple] = {
            "headline_eps": (eps, "pixels", "L-inf eps of the headline numbers (smallest grid eps at which PGD "
                                            "halves the primary model's accuracy, unless fixed by `eps`)")}
        for name, model in models.items():
            metrics[f"clean_acc_{name}"] = (float((predict(model, x)[0] == y).float().mean()), "fraction",
                                            f"test accuracy of {name}")
            for a in ("fgsm", "pgd-inf", "noise-sign"):
                x_adv = attack(a, model, x, y, eps, cfg, ctx.generator(a, "headline"))
                metrics[f"acc_{a}_{name}"] = (float((predict(model, x_adv)[0] == y).float().mean()), "fraction",
                                              f"{name} accuracy under {a} at the headline eps")
        model = models[primary]
        x_adv = attack("pgd-inf", model, x, y, eps, cfg, ctx.generator("pgd-inf", "headline"))
        pred, conf = predict(model, x_adv)
        wrong = pred != y
        delta = (x_adv - x).flatten(1)
        metrics["wrong_confidence"] = (float(conf[wrong].mean()) if wrong.any() else None, "probability",
                                       f"mean confidence of {primary}'s wrong predictions under PGD")
        metrics["delta_linf"] = (float(delta.abs().max(1).values.mean()), "pixels", "mean L-inf size of PGD's change")
        metrics["delta_l2_relative"] = (float((delta.norm(dim=1) / x.flatten(1).norm(dim=1)).mean()), "fraction",
                                        "mean ||x_adv - x||_2 / ||x||_2")
        success = self.targeted(model, x, y, ctx, eps)
        off = ~torch.eye(10, dtype=torch.bool)
        metrics["targeted_success"] = (float(success[off].nanmean()), "fraction",
                                       "mean success of targeted PGD over (true, target) pairs")
        if cfg.adv_train:
            metrics.update(self.remedy(ctx, x, y, eps, metrics[f"acc_pgd-inf_{primary}"][0], metrics[f"clean_acc_{primary}"][0]))
        figs = self.figures(curves, model, x, y, x_adv, pred, conf, success, eps)
        return self.result(ctx, metrics=metrics, figures=figs)

    def headline_eps(self, pgd_curve: list[float]) -> float:
        """`eps` if set; else the smallest grid eps at which PGD halves the clean accuracy (else the largest)."""
        if self.config.eps is not None:
            return self.config.eps
        grid = self.config.eps_grid
        clean = pgd_curve[grid.index(0.0)] if 0.0 in grid else None
        for e, acc in sorted(zip(grid, pgd_curve)):
            if e > 0 and clean is not None and acc <= clean / 2:
                return e
        return max(grid)

    def targeted(self, model: nn.Module, x: Tensor, y: Tensor, ctx: Context, eps: float) -> Tensor:
        """Success rate of targeted PGD, as a (true class x target class) matrix; one batched attack."""
        cfg = self.config
        targets = torch.arange(10).repeat_interleave(len(x))
        xs, ys = x.repeat(10, 1, 1, 1), y.repeat(10)
        x_adv = attacks.pgd(model, xs, targets, eps=eps, step_size=cfg.step_ratio * eps / cfg.pgd_steps,
                            steps=cfg.pgd_steps, targeted=True, generator=ctx.generator("targeted"))
        hit = (predict(model, x_adv)[0] == targets).float()
        index = ys * 10 + targets
        total = torch.bincount(index, minlength=100).float()
        matrix = torch.bincount(index, weights=hit, minlength=100) / total
        return matrix.view(10, 10).where(total.view(10, 10) > 0, torch.tensor(float("nan")))

    def remedy(self, ctx: Context, x: Tensor, y: Tensor, eps: float, standard_pgd: float, standard_clean: float
               ) -> dict[str, tuple]:
        cfg = self.config
        robust = self.train_robust(ctx, eps)
        clean = float((predict(robust, x)[0] == y).float().mean())
        x_adv = attacks.pgd(robust, x, y, eps=eps, step_size=cfg.step_ratio * eps / cfg.pgd_steps,
                            steps=cfg.pgd_steps, random_start=True, generator=ctx.generator("remedy"))
        pgd_acc = float((predict(robust, x_adv)[0] == y).float().mean())
        fgsm_acc = float((predict(robust, attacks.fgsm(robust, x, y, eps=eps))[0] == y).float().mean())
        return {
            "robust_clean_acc": (clean, "fraction", "clean accuracy of the adversarially trained model"),
            "robust_pgd_acc": (pgd_acc, "fraction", "its accuracy under PGD with random start"),
            "robust_fgsm_acc": (fgsm_acc, "fraction", "its accuracy under FGSM"),
            "robust_gain": (pgd_acc - standard_pgd, "fraction", "PGD accuracy gained by adversarial training"),
            "clean_cost": (standard_clean - clean, "fraction", "clean accuracy lost by adversarial training"),
        }

    def figures(self, curves, model, x, y, x_adv, pred, conf, success, eps: float) -> list[Figure]:
        cfg, k = self.config, self.config.num_examples
        sweep = Figure("accuracy-vs-eps", "Accuracy vs perturbation size", [
            figures.lines([figures.series(a, cfg.eps_grid, accs) for a, accs in c.items()], title=name,
                          xlabel="eps (L-inf; L2 attacks at eps·√64)", ylabel="test accuracy", ylim=(0, 1.02))
            for name, c in curves.items()],
            caption="Gradient-chosen perturbations (gradient step, FGSM, PGD) against random noise of the same size.")
        with torch.no_grad():
            clean_pred, clean_conf = predict(model, x[:k])
        delta = (x_adv[:k] - x[:k])[:, 0]
        examples = Figure("examples", f"Adversarial examples at eps = {eps:g} ({cfg.models[-1]}, PGD)", [
            figures.images(x[:k, 0], ncols=k, title="original",
                           captions=[f"{p} ({c:.0%})" for p, c in zip(clean_pred.tolist(), clean_conf.tolist())]),
            figures.images(delta, ncols=k, title="perturbation", cmap="RdBu_r", vmin=-eps, vmax=eps),
            figures.images(x_adv[:k, 0], ncols=k, title="adversarial",
                           captions=[f"{p} ({c:.0%})" for p, c in zip(pred[:k].tolist(), conf[:k].tolist())]),
        ], caption="Each column: a test digit, the change PGD made, and the result, with predicted class and confidence.")
        digits_ = [str(i) for i in range(10)]
        matrix = Figure("targeted", "Targeted PGD success", [
            figures.matrix(success, rows=digits_, cols=digits_, xlabel="target class", ylabel="true class",
                           vmin=0, vmax=1, title=f"eps = {eps:g}")],
            caption="Fraction of test digits of each class turned into each target class (diagonal: already that class).")
        return [sweep, examples, matrix]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config
        p = cfg.models[-1]
        clean, pgd, noise = m[f"clean_acc_{p}"], m[f"acc_pgd-inf_{p}"], m[f"acc_noise-sign_{p}"]
        eps = m["headline_eps"]
        parts = {
            "flip": eps <= cfg.max_small_eps and pgd <= clean / 2 and noise >= 0.9 * clean,
            "confident": (m["wrong_confidence"] or 0) >= 0.5,
            "iterate": all(m[f"acc_pgd-inf_{n}"] <= m[f"acc_fgsm_{n}"] + 0.01 for n in cfg.models),
            "targeted": m["targeted_success"] >= 0.5,
        }
        text = (f"At eps={eps:g} (L-inf, pixels in [0, 1]), PGD takes the {p} from {clean:.1%} to {pgd:.1%} accuracy "
                f"(random sign noise "
                f"of that size: {noise:.1%}; FGSM: {m[f'acc_fgsm_{p}']:.1%}); wrong answers at "
                f"{(m['wrong_confidence'] or 0):.0%} mean confidence; targeted success {m['targeted_success']:.0%}")
        if cfg.adv_train:
            parts["remedy"] = m["robust_gain"] >= 0.2 and m["clean_cost"] > 0
            text += (f"; adversarial training: PGD accuracy {pgd:.1%} -> {m['robust_pgd_acc']:.1%}, "
                     f"clean {clean:.1%} -> {m['robust_clean_acc']:.1%}")
        failed = [name for name, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if "flip" in failed else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
