"""Uncertainty: a softmax classifier is confident on inputs unlike its training data; Bayesian
approximations flag them better, though not perfectly.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in neural networks.
ICLR 2017, arXiv:1610.02136. Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016, arXiv:1506.02142.
Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty estimation using deep ensembles.
NeurIPS 2017, arXiv:1612.01474. Kendall, Gal. What uncertainties do we need in Bayesian deep learning for
computer vision? NeurIPS 2017, arXiv:1703.04977. Sources: 002 (P(cat) + P(dog) = 1; T stochastic forward
passes with dropout), 001.

Protocol: `num_members` zoo CNNs (with dropout) trained on digits from different initializations (a deep
ensemble); member 0 is "the" model. Out-of-distribution sets (`limitlab.data.ood_sets`): glyphs, noise,
blobs, inverted digits, digits rotated by `rotation` degrees. Scores (`limitlab.uncertainty.scores`): 1 -
max softmax; MC-dropout (`mc_samples` passes) entropy and mutual information; ensemble entropy. Per score
and set: AUROC and FPR at 95% TPR against the test digits; accuracy vs rejection on the test digits. 1-D
regression (`limitlab.data.regression_1d`, trained on [-2, 2]): a mean-variance net with dropout; over
`reg_mc_samples` passes on [-4, 4], the aleatoric and epistemic variance (`limitlab.uncertainty.regression`).

Verdict: "confident" = the model's mean max softmax on OOD inputs, averaged over the five sets, is >=
0.5 (chance is 0.1); "better" = the best of the three Bayesian scores (MC-dropout entropy, MC-dropout
mutual information, ensemble entropy) has a mean AUROC over the sets >= max softmax's + 0.02;
"imperfect" = on at least one set no score reaches AUROC 0.99; "epistemic" = the MC-dropout epistemic
variance of the regression net, averaged outside the training range, is >= 2 x its average inside.
The claim holds if every part holds, fails if "confident" or "better" does not, and is inconclusive
otherwise. The evidence names every set on which MC-dropout entropy does not beat max softmax.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from limitlab import figures, ood, uncertainty
from limitlab.config import Checked, Interval
from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.ood_sets import OOD_SETS, ood_sets
from limitlab.data.regression_1d import TRAIN_RANGE, heteroscedastic_1d, truth
from limitlab.models.ensemble import train_members
from limitlab.models.mean_variance import train_mean_variance
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, fmt
from limitlab.studies._rules import mean, plus
from limitlab.study import Study, register
from limitlab.uncertainty.regression import aleatoric_epistemic
from limitlab.uncertainty.scores import SCORES, uncertainty_scores

BAYES = SCORES[1:]
SOURCE = {"max-softmax": "det", "mc-entropy": "mc", "mc-mi": "mc", "ens-entropy": "ens"}  # whose probabilities


@dataclass(frozen=True)
class UncertaintyConfig(Checked):
    constraints: ClassVar = {
        "num_members": Interval(2), "mc_samples": Interval(2), "reg_mc_samples": Interval(2), "epochs": Interval(1),
        "reg_epochs": Interval(1), "num_test": Interval(1, 360), "num_ood": Interval(1, 270),
        "reg_points": Interval(20), "dropout": Interval(0, 1, closed="neither"),
        "reg_dropout": Interval(0, 1, closed="neither")}
    num_members: int = 5
    epochs: int = 10
    dropout: float = 0.25
    mc_samples: int = 20
    num_test: int = 360  # the digits test set has 360 images
    num_ood: int = 150  # inputs per OOD set (glyphs has 270)
    rotation: float = 90.0
    reg_points: int = 300
    reg_epochs: int = 100
    reg_dropout: float = 0.1
    reg_mc_samples: int = 100


@register("uncertainty", chapter="uncertainty", sources=("001", "002"))
class Uncertainty(Study[UncertaintyConfig]):
    """Over-confidence out of distribution; MC dropout and deep ensembles (Hendrycks & Gimpel 2017;
    Gal & Ghahramani 2016; Lakshminarayanan et al. 2017; Kendall & Gal 2017). Sources: 002, 001."""

    claim = ("Softmax outputs sum to one, so a classifier answers confidently on inputs unlike any it was "
             "trained on; approximate Bayesian methods (MC dropout, deep ensembles) expose model uncertainty "
             "and flag such inputs better, though not perfectly.")
    Config = UncertaintyConfig
    presets = {
        "tiny": {"num_members": 2, "epochs": 2, "mc_samples": 8, "num_test": 100, "num_ood": 50,
                 "reg_points": 200, "reg_epochs": 15, "reg_mc_samples": 20},
        "full": {"num_members": 10, "epochs": 40, "mc_samples": 100, "num_ood": 270, "reg_points": 1000,
                 "reg_epochs": 400, "reg_mc_samples": 200},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        models = train_members(ctx, num_members=cfg.num_members, epochs=cfg.epochs, dropout=cfg.dropout)
        inputs = {"test": x, **ood_sets(data.test.x, num=cfg.num_ood, rotation=cfg.rotation, generator=ctx.generator)}
        probs = {name: {"det": uncertainty.ensemble(models[:1], v)[0], "ens": uncertainty.ensemble(models, v),
                        "mc": uncertainty.mc_dropout(models[0], v, samples=cfg.mc_samples,
                                                     seed=ctx.derive_seed("mc", name))} for name, v in inputs.items()}
        scores = {name: uncertainty_scores(p["det"], mc=p["mc"], ensemble=p["ens"]) for name, p in probs.items()}
        for name, p in probs.items():
            m.add(f"conf_{name}", float(uncertainty.max_softmax(p["det"]).mean()), "probability",
                  f"the model's mean max softmax on {name}")
        for s in SCORES:
            for name in OOD_SETS:
                m.add(f"auroc_{s}_{name}", ood.auroc(scores["test"][s], scores[name][s]), "AUROC",
                      f"{s} separating test digits from {name}")
                m.add(f"fpr95_{s}_{name}", ood.fpr_at_tpr(scores["test"][s], scores[name][s]), "fraction",
                      f"{name} inputs accepted by {s} when 95% of test digits are")
            m.add(f"mean_auroc_{s}", sum(m[f"auroc_{s}_{n}"].value for n in OOD_SETS) / len(OOD_SETS), "AUROC",
                  f"{s} AUROC averaged over the OOD sets")
        curves = self.rejection(probs["test"], scores["test"], y, m)
        reg = self.regression(ctx, m)
        return self.result(ctx, metrics=m, tables=[self.table(probs, m)], figures=self.figures(probs, curves, reg, m))

    @staticmethod
    def rejection(p: dict[str, Tensor], s: dict[str, Tensor], y: Tensor, m: Metrics) -> dict[str, list]:
        """Accuracy vs rejection rate per score, each method predicting with its own mean probabilities."""
        pred = {"det": p["det"].argmax(-1), "mc": p["mc"].mean(0).argmax(-1), "ens": p["ens"].mean(0).argmax(-1)}
        curves = {score: list(ood.rejection_curve(s[score], pred[SOURCE[score]] == y)) for score in SCORES}
        for score, (rates, acc) in curves.items():
            m.add(f"acc_reject20_{score}", acc[rates.index(0.2)], "fraction",
                  f"test accuracy after rejecting the 20% with highest {score}")
        for key, name in (("det", "model"), ("mc", "MC-dropout mean"), ("ens", "ensemble mean")):
            m.add(f"acc_{key}", float((pred[key] == y).float().mean()), "fraction", f"test accuracy of the {name}")
        return curves

    def regression(self, ctx: Context, m: Metrics) -> dict[str, list]:
        """Train the mean-variance net on [-2, 2]; split its MC-dropout variance into aleatoric and epistemic."""
        cfg = self.config
        train = heteroscedastic_1d(cfg.reg_points, generator=ctx.generator("regression"))
        model = train_mean_variance(train, ctx=ctx, dropout=cfg.reg_dropout, epochs=cfg.reg_epochs)
        grid = torch.linspace(-4.0, 4.0, 161).view(-1, 1)
        mu, aleatoric, epistemic = aleatoric_epistemic(model, grid, samples=cfg.reg_mc_samples,
                                                       seed=ctx.derive_seed("regression-mc"))
        true_mean, true_std = truth(grid[:, 0])
        inside = (grid[:, 0] >= TRAIN_RANGE[0]) & (grid[:, 0] <= TRAIN_RANGE[1])
        e_in, e_out = float(epistemic[inside].mean()), float(epistemic[~inside].mean())
        m.add("epistemic_in", e_in, "variance", "MC-dropout variance of the mean inside the training range")
        m.add("epistemic_out", e_out, "variance", "the same outside")
        m.add("epistemic_ratio", e_out / max(e_in, 1e-12), "ratio", "epistemic variance outside / inside")
        m.add("aleatoric_in", float(aleatoric[inside].mean()), "variance", "mean predicted noise variance inside")
        m.add("true_noise_var_in", float((true_std[inside] ** 2).mean()), "variance", "true noise variance inside")
        corr = torch.corrcoef(torch.stack([aleatoric[inside].sqrt(), true_std[inside]]))[0, 1]
        m.add("aleatoric_corr", float(corr), "correlation", "correlation of predicted and true noise std inside")
        return {"x": train.x[:, 0].tolist(), "y": train.y.tolist(), "grid": grid[:, 0].tolist(), "mu": mu.tolist(),
                "aleatoric": aleatoric.tolist(), "epistemic": epistemic.tolist(), "true_mean": true_mean.tolist()}

    def judge(self, m: MetricValues) -> Verdict:
        ood_conf, base = mean(m[f"conf_{n}"] for n in OOD_SETS), m["mean_auroc_max-softmax"]
        means = {s: m[f"mean_auroc_{s}"] for s in BAYES if m[f"mean_auroc_{s}"] is not None}
        best = max(means, key=means.get, default=BAYES[0])  # type: ignore[arg-type]
        aurocs = {n: [m[f"auroc_{s}_{n}"] for s in SCORES] for n in OOD_SETS}
        reached = {n: None if None in v else max(v) for n, v in aurocs.items()}  # the best score's AUROC per set
        hardest = min((n for n in OOD_SETS if reached[n] is not None), key=reached.get, default=None)
        parts = {"confident": at_least(ood_conf, 0.5), "better": at_least(m[f"mean_auroc_{best}"], plus(base, 0.02)),
                 "imperfect": at_most(reached.get(hardest), 0.99, noise=0.0),
                 "epistemic": at_least(m["epistemic_ratio"], 2)}
        not_beaten = [n for n in OOD_SETS if at_most(m[f"auroc_mc-entropy_{n}"], m[f"auroc_max-softmax_{n}"])]
        text = (f"Mean max softmax {fmt(ood_conf, '.2f')} on OOD inputs (test digits {fmt(m['conf_test'], '.2f')}, "
                f"rotated {fmt(m['conf_rotated'], '.2f')}); mean AUROC max softmax {fmt(base, '.3f')} vs {best} "
                f"{fmt(m[f'mean_auroc_{best}'], '.3f')} (MC entropy {fmt(m['mean_auroc_mc-entropy'], '.3f')}, ensemble "
                f"{fmt(m['mean_auroc_ens-entropy'], '.3f')}); hardest set {hardest or 'n/a'}; regression epistemic "
                f"variance {fmt(m['epistemic_ratio'], '.2f')}x larger outside the training range")
        if not_beaten:
            text += f"; MC-dropout entropy does not beat max softmax on {', '.join(not_beaten)}"
        return Verdict.combine(parts, text, decisive=("confident", "better"))

    @staticmethod
    def table(probs: dict, m: Metrics) -> Table:
        rows = [[name, *[f"{float(uncertainty.max_softmax(probs[name][k]).mean()):.3f}" for k in ("det", "mc", "ens")],
                 *["" if name == "test" else f"{m[f'auroc_{s}_{name}'].value:.3f}" for s in SCORES]]
                for name in ("test", *OOD_SETS)]
        return Table("Confidence and OOD detection per set", ["set", "conf (model)", "conf (MC mean)",
                     "conf (ensemble)", *[f"AUROC {s}" for s in SCORES]], rows,
                     caption="Mean max softmax of each predictor; AUROC of each score against the test digits.")

    def figures(self, probs: dict, curves: dict, reg: dict, m: Metrics) -> list[Figure]:
        conf = {name: uncertainty.max_softmax(p["det"]).tolist() for name, p in probs.items()}
        grid, mu = reg["grid"], reg["mu"]
        sd = {part: [2 * math.sqrt(max(v, 0.0)) for v in reg[part]] for part in ("aleatoric", "epistemic")}
        bands = [figures.lines([
            figures.series("training data", reg["x"], reg["y"], style="points"),
            figures.series("true mean", grid, reg["true_mean"], style="line"),
            figures.series("predicted mean ±2σ", grid, mu, lo=[a - s for a, s in zip(mu, sd[part])],
                           hi=[a + s for a, s in zip(mu, sd[part])], style="line"),
        ], title=title, xlabel="x", ylabel="y", ylim=(-3.5, 3.5),
            vspans=[{"x0": TRAIN_RANGE[0], "x1": TRAIN_RANGE[1], "label": "training range"}])
            for part, title in (("aleatoric", "aleatoric: mean predicted noise (±2σ)"),
                                ("epistemic", "epistemic: spread of MC-dropout means (±2σ)"))]
        return [Figure("confidence", "Confidence of the model: test digits vs each out-of-distribution set", [
            figures.hist([{"label": "test digits", "values": conf["test"]}, {"label": name, "values": conf[name]}],
                         title=f"{name} (mean {sum(conf[name]) / len(conf[name]):.2f})", xlabel="max softmax",
                         bins=20, range=(0.0, 1.0)) for name in OOD_SETS],
            caption="Normalized histograms of the deterministic model's max softmax. Mass near 1 on an OOD set "
                    "means confident answers on inputs that hold no digit."),
            Figure("ood-auroc", "OOD detection AUROC per score and set", [figures.bars(list(OOD_SETS), [
                {"label": s, "values": [m[f"auroc_{s}_{n}"].value for n in OOD_SETS]} for s in SCORES],
                ylabel="AUROC (0.5 = chance)", ylim=(0.0, 1.2))],
                caption="Higher is better. max-softmax: the model alone; mc-*: MC dropout; ens-entropy: ensemble."),
            Figure("rejection", "Accuracy vs rejection on the test digits", [
                figures.lines([figures.series(s, *curves[s]) for s in SCORES], ylabel="accuracy on the kept inputs",
                              xlabel="fraction rejected (most uncertain first)")],
                caption="Each method rejects by its own score and predicts with its own (mean) probabilities."),
            Figure("regression-bands", "Aleatoric vs epistemic uncertainty in 1-D regression", bands,
                   caption="A mean-and-variance network with dropout, trained on x in [-2, 2] (shaded), where the "
                           "noise grows with x. Left: the noise it predicts; right: how much its MC-dropout passes "
                           "disagree.")]
