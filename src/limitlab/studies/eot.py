"""Expectation Over Transformation: adversarial examples that survive shifts, rotations and noise.

Athalye, Engstrom, Ilyas, Kwok. Synthesizing robust adversarial examples. ICML 2018, arXiv:1707.07397.
Source: 002.

Protocol: the zoo CNN trained on digits augmented with the transformation distribution below (so
the model is mostly invariant to it, as a classifier of real photographs is to small changes of
viewpoint; without augmentation a 1-pixel shift alone costs the 8x8 digit CNN about 30 points of
accuracy, and no perturbation could be expected to survive transformations the clean digit does not);
on `num_test` test digits, each with a random wrong target
class, targeted PGD (L-inf, `steps` steps of 2.5 eps / steps) and EOT-PGD with the same budget in
eps and steps, its gradient averaged over `eot_samples` transformations drawn afresh at every step.
The transformation distribution: shift up to `max_shift` pixels, rotation up to `max_rotation`
degrees, zoom in `scale_range`, contrast in `contrast_range`, brightness up to `max_brightness`,
Gaussian noise of std `noise_std` (limitlab.data.transforms). Success = the model predicts the
target; measured on the adversarial images as they are and under `num_draws` fresh transformations
per image (never the ones the attack used), at every strength in `strengths` (the distribution's
magnitudes times the strength; 1 is the distribution attacked). Also: the clean images' accuracy and
target rate under the same transformations, perturbation sizes, and cost in gradient evaluations.

Verdict: "valid" = the model's clean accuracy under the transformations (strength 1) is >= 0.9;
"works" = plain PGD succeeds on >= 80% of the untransformed images; "fragile" = plain PGD's
success under the transformations (strength 1) is at least 0.2 below its untransformed success;
"robust" = EOT-PGD's success under the transformations is at least 0.2 above plain PGD's. The claim
holds if all four hold; it is inconclusive if "valid" or "works" does not (transformations the model
cannot handle, or an attack too weak to test the claim), and fails otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from limitlab import attacks, figures
from limitlab._modelstate import frozen
from limitlab.attacks.transformed import rate_under_transform
from limitlab.config import Checked, Interval, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.transforms import TransformDistribution
from limitlab.models import TrainConfig, build, fit
from limitlab.models.hooks import Augment
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict, at_least, at_most, fmt
from limitlab.studies._rules import plus
from limitlab.study import Study, register


@dataclass(frozen=True)
class EOTConfig(Checked):
    constraints: ClassVar = {
        "epochs": Interval(1), "num_test": Interval(1, 360), "eps": Interval(0, 1, closed="right"),
        "steps": Interval(1), "eot_samples": Interval(1), "num_draws": Interval(1), "num_examples": Interval(1)}
    epochs: int = 15
    num_test: int = 100  # the digits test set has 360 images
    eps: float = 0.3  # Madry et al.'s MNIST budget; targeted PGD needs it on digits
    steps: int = 20
    eot_samples: int = 12
    num_draws: int = 20
    # Chosen from clean accuracy alone (not attack success): the augmented CNN keeps ~90% under it.
    max_shift: float = 0.5
    max_rotation: float = 10.0
    scale_range: tuple[float, float] = (0.95, 1.05)
    contrast_range: tuple[float, float] = (0.9, 1.1)
    max_brightness: float = 0.1
    noise_std: float = 0.05
    strengths: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
    num_examples: int = 6

    def validate(self) -> None:
        check(1.0 in self.strengths and all(s >= 0 for s in self.strengths),
              f"strengths={list(self.strengths)}; expected values >= 0 including 1.0 (the attacked distribution)")
        check(self.num_examples <= self.num_test, f"num_examples={self.num_examples}; expected <= num_test")
        self.distribution()  # the distribution's own checks (ranges, signs), as a ConfigError now

    def distribution(self) -> TransformDistribution:
        return TransformDistribution(max_shift=self.max_shift, max_rotation=self.max_rotation,
                                     scale_range=tuple(self.scale_range), noise_std=self.noise_std,
                                     max_brightness=self.max_brightness, contrast_range=tuple(self.contrast_range))


LABELS = {"plain": "plain PGD", "eot": "EOT-PGD", "clean (target rate)": "clean digits (target rate)"}


@register("eot", chapter="robustness", sources=("002",))
class EOT(Study[EOTConfig]):
    """Robust adversarial examples by Expectation Over Transformation (Athalye et al. 2018). Source: 002."""

    claim = ("Ordinary adversarial examples often stop fooling the model once the input is transformed "
             "(shifted, rotated, rescaled, noised); optimizing the expected loss over a distribution of "
             "transformations (Expectation Over Transformation) makes them robust to it.")
    Config = EOTConfig
    presets = {
        "tiny": {"epochs": 3, "num_test": 24, "steps": 8, "eot_samples": 4, "num_draws": 4,
                 "strengths": (0.0, 1.0, 2.0), "num_examples": 4},
        "full": {"epochs": 40, "num_test": 360, "steps": 60, "eot_samples": 32, "num_draws": 50,
                 "strengths": (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5)},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        dist = cfg.distribution()
        with ctx.seeded_torch("init", "cnn-augmented"):  # the model's own stream
            model = build("cnn")
        fit(model, data.train, val=data.val, ctx=ctx, config=TrainConfig(epochs=cfg.epochs, eval_train=False),
            batch_hook=Augment(dist), key={"augment": repr(dist)}, description="train cnn (augmented)")
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        target = (y + torch.randint(1, 10, y.shape, generator=ctx.generator("targets"))) % 10
        kw = dict(eps=cfg.eps, step_size=2.5 * cfg.eps / cfg.steps, steps=cfg.steps, targeted=True)
        adv = {"plain": attacks.pgd(model, x, target, **kw),
               "eot": attacks.eot_pgd(model, x, target, transform=dist, samples=cfg.eot_samples,
                                      generator=ctx.generator("eot"), **kw)}

        def rate(images: Tensor, label: Tensor, strength: float, draws: int, *names: object) -> float:
            return rate_under_transform(model, images, label, transform=dist.scaled(strength), draws=draws,
                                        generator=ctx.generator(*names))

        curves = {name: [rate(a, target, s, cfg.num_draws, "eval", s) for s in cfg.strengths]
                  for name, a in ctx.progress.track(adv.items(), description="evaluate")}
        curves["clean (target rate)"] = [rate(x, target, s, cfg.num_draws, "eval", s) for s in cfg.strengths]
        one = cfg.strengths.index(1.0)
        m.add("clean_acc", rate(x, y, 0, 1, "clean"), "fraction", "test accuracy, untransformed")
        m.add("clean_acc_transformed", rate(x, y, 1.0, cfg.num_draws, "eval", 1.0), "fraction",
              "test accuracy under the transformations (strength 1)")
        m.add("clean_target_rate", curves["clean (target rate)"][one], "fraction",
              "clean images classified as their target under the transformations")
        for name, a in adv.items():
            delta = (a - x).flatten(1)
            m.add(f"success_{name}_identity", rate(a, target, 0, 1, "id"), "fraction",
                  f"targeted success of {name} PGD, untransformed")
            m.add(f"success_{name}_transformed", curves[name][one], "fraction",
                  f"targeted success of {name} PGD under fresh transformations")
            m.add(f"linf_{name}", float(delta.abs().max(1).values.mean()), "pixels", f"mean L-inf size ({name})")
            m.add(f"l2_{name}", float(delta.norm(dim=1).mean()), "pixels", f"mean L2 size ({name})")
        m.add("grad_evals_plain", cfg.steps, "passes", "forward+backward passes per input, plain PGD")
        m.add("grad_evals_eot", cfg.steps * cfg.eot_samples, "passes", "forward+backward passes per input, EOT")
        if 0.0 in cfg.strengths:
            m.add("success_eot_strength0", curves["eot"][cfg.strengths.index(0.0)], "fraction",
                  "EOT success at strength 0")
        figs = [self.curve_figure(curves), self.example_figure(model, x, target, adv, dist, ctx)]
        return self.result(ctx, metrics=m, figures=figs)

    def judge(self, m: MetricValues) -> Verdict:
        p_id, p_t = m["success_plain_identity"], m["success_plain_transformed"]
        e_id, e_t = m["success_eot_identity"], m["success_eot_transformed"]
        parts = {"valid": at_least(m["clean_acc_transformed"], 0.9), "works": at_least(p_id, 0.8),
                 "fragile": at_most(p_t, plus(p_id, -0.2)), "robust": at_least(e_t, plus(p_t, 0.2))}
        text = (f"Targeted success untransformed: plain {fmt(p_id, '.0%')}, EOT {fmt(e_id, '.0%')}; under fresh "
                f"transformations: plain {fmt(p_t, '.0%')}, EOT {fmt(e_t, '.0%')} (clean images hit the target "
                f"{fmt(m['clean_target_rate'], '.0%')}, and keep {fmt(m['clean_acc_transformed'], '.0%')} accuracy); "
                f"L2 size plain {fmt(m['l2_plain'], '.2f')} vs EOT {fmt(m['l2_eot'], '.2f')}; cost "
                f"{fmt(m['grad_evals_eot'], '.0f')} vs {fmt(m['grad_evals_plain'], '.0f')} gradient evaluations per "
                "input")
        # A failed gate (transformations the model cannot handle, an attack too weak) leaves the claim untested.
        gates = parts["valid"] and parts["works"]
        return Verdict.combine(parts, text, decisive=("fragile", "robust") if gates else ())

    def curve_figure(self, curves: dict[str, list[float]]) -> Figure:
        cfg = self.config
        return Figure("success-vs-strength", "Targeted success vs transformation strength", [
            figures.lines([figures.series(LABELS[n], cfg.strengths, v) for n, v in curves.items()],
                          xlabel="transformation strength (1 = attacked distribution)",
                          ylabel="fraction classified as the target", ylim=(0, 1.02),
                          vspans=[{"x0": 0.97, "x1": 1.03, "label": "attacked distribution"}])],
            caption=f"Same eps = {cfg.eps} (L-inf) and {cfg.steps} steps; {cfg.num_draws} fresh transformations per "
                    f"image at each strength. Strength s multiplies every magnitude (shift {cfg.max_shift} px, "
                    f"rotation "
                    f"{cfg.max_rotation}°, zoom, contrast, brightness, noise) by s.")

    def example_figure(self, model, x, target, adv, dist, ctx) -> Figure:
        k = self.config.num_examples
        t = dist.sample(k, generator=ctx.generator("examples"))
        rows = [("original", x[:k]), ("plain PGD", adv["plain"][:k]), ("EOT-PGD", adv["eot"][:k]),
                ("plain, transformed", t(adv["plain"][:k])), ("EOT, transformed", t(adv["eot"][:k]))]
        with frozen(model), torch.no_grad():
            panels = []
            for title, imgs in rows:
                conf, pred = torch.softmax(model(imgs), 1).max(1)
                panels.append(figures.images(imgs[:, 0], ncols=k, title=title, captions=[
                    f"{p} ({c:.0%})" + (" ✓" if p == tt else "") for p, c, tt in
                    zip(pred.tolist(), conf.tolist(), target[:k].tolist())]))
        return Figure("examples", "Adversarial examples before and after one random transformation", panels,
                      caption="Captions: predicted class (confidence); ✓ = the attack's target. Targets: "
                              + ", ".join(map(str, target[:k].tolist())) + ". Both transformed rows use the same draw.")
