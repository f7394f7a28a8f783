"""Uncertainty: a softmax classifier is confident on inputs unlike its training data; Bayesian
approximations flag them better, though not perfectly.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in neural networks. ICLR
2017, arXiv:1610.02136. Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016, arXiv:1506.02142.
Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty estimation using deep ensembles.
NeurIPS 2017, arXiv:1612.01474. Kendall, Gal. What uncertainties do we need in Bayesian deep learning for computer
vision? NeurIPS 2017, arXiv:1703.04977. Sources: 002 (P(cat) + P(dog) = 1; T dropout passes), 001.

Protocol: `num_members` zoo CNNs with dropout trained on digits from different initializations (a deep ensemble;
member 0 is "the" model). OOD sets (`limitlab.data.ood_sets`): glyphs, noise, blobs, inverted digits, digits rotated
by `rotation` degrees. Scores (`limitlab.uncertainty.scores`): 1 - max softmax; MC-dropout (`mc_samples` passes)
entropy and mutual information; ensemble entropy. Per score and set: AUROC and FPR at 95% TPR against the test
digits; accuracy vs rejection. 1-D regression (`limitlab.data.regression_1d`, trained on [-2, 2]): a mean-variance
net with dropout; over `reg_mc_samples` passes on [-4, 4], the aleatoric and epistemic variance.

Verdict: a comparison holds only when its margin exceeds its noise floor (two standard errors: of a mean over the
inputs; Hanley & McNeil's for an AUROC; the paired bootstrap for a gap in mean AUROC; the bootstrap over MC passes
for the epistemic ratio) and, over seeds, the spread. "confident" = the model's mean max softmax over the OOD inputs
is >= 0.5 (chance is 0.1); "better" = the best of the three Bayesian scores (MC-dropout entropy, MC-dropout mutual
information, ensemble entropy) has a higher mean AUROC over the sets than max softmax (a fixed +0.02 stood in for
this noise); "imperfect" = on at least one set no score reaches AUROC 0.99; "epistemic" = the regression net's
MC-dropout epistemic variance, averaged outside the training range, exceeds its average inside: Kendall & Gal's
picture, model uncertainty larger where there was no data (an unsourced "2x" sat inside the seed spread). Holds if
every part holds; fails if "confident" or "better" does not; else inconclusive. The evidence names every set on
which MC-dropout entropy does not beat max softmax.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from limitlab import figures, ood, uncertainty
from limitlab.config import Checked, Interval
from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.digit_ood import OOD_SETS, ood_sets
from limitlab.data.regression_1d import TRAIN_RANGE, heteroscedastic_1d, truth
from limitlab.models.ensemble import train_members
from limitlab.models.mean_variance import train_mean_variance
from limitlab.ood.auroc_noise import auroc_se, mean_auroc_gap_bootstrap
from limitlab.result import Figure, Metrics, MetricValues, Result, Verdict, at_least, at_most, fmt
from limitlab.studies._rules import decided, margin, mean_noise
from limitlab.study import Study, register
from limitlab.uncertainty.predictive import SOURCE, predictions, predictive
from limitlab.uncertainty.regression import aleatoric_epistemic, epistemic_ratio
from limitlab.uncertainty.scores import SCORES, uncertainty_scores


@dataclass(frozen=True)
class UncertaintyConfig(Checked):
    constraints: ClassVar = {
        **dict.fromkeys(("num_members", "mc_samples", "reg_mc_samples", "num_bootstrap"), Interval(2)),
        "epochs": Interval(1), "reg_epochs": Interval(1), "num_test": Interval(1, 360), "num_ood": Interval(1, 270),
        "reg_points": Interval(20), **dict.fromkeys(("dropout", "reg_dropout"), Interval(0, 1, closed="neither"))}
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
    num_bootstrap: int = 100  # resamples for the noise of the AUROC gap and of the epistemic ratio


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
                 "reg_points": 200, "reg_epochs": 15, "reg_mc_samples": 20, "num_bootstrap": 20},
        "full": {"num_members": 10, "epochs": 40, "mc_samples": 100, "num_ood": 270, "reg_points": 1000,
                 "reg_epochs": 400, "reg_mc_samples": 200, "num_bootstrap": 1000},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        models = train_members(ctx, num_members=cfg.num_members, epochs=cfg.epochs, dropout=cfg.dropout)
        inputs = {"test": x, **ood_sets(data.test.x, num=cfg.num_ood, rotation=cfg.rotation, generator=ctx.generator)}
        probs = {name: predictive(models, v, mc_samples=cfg.mc_samples, generator=ctx.generator("mc", name))
                 for name, v in inputs.items()}
        scores = {name: uncertainty_scores(p["det"], mc=p["mc"], ensemble=p["ens"]) for name, p in probs.items()}
        conf = {name: uncertainty.max_softmax(p["det"]) for name, p in probs.items()}
        for name, c in {**conf, "ood": torch.cat([conf[n] for n in OOD_SETS])}.items():
            m.add(f"conf_{name}", float(c.mean()), "probability", f"the model's mean max softmax on {name}",
                  noise=mean_noise(c))
        for s in SCORES:
            for name in OOD_SETS:
                auc = ood.auroc(scores["test"][s], scores[name][s])
                m.add(f"auroc_{s}_{name}", auc, "AUROC", f"{s} separating test digits from {name}",
                      noise=2 * auroc_se(auc, len(x), len(inputs[name])))
                m.add(f"fpr95_{s}_{name}", ood.fpr_at_tpr(scores["test"][s], scores[name][s]), "fraction",
                      f"{name} inputs accepted by {s} when 95% of test digits are")
            m.add(f"mean_auroc_{s}", sum(m[f"auroc_{s}_{n}"].value for n in OOD_SETS) / len(OOD_SETS), "AUROC",
                  f"{s} AUROC averaged over the OOD sets")
        reached = {n: max((m[f"auroc_{s}_{n}"].value, s) for s in SCORES) for n in OOD_SETS}  # the best score per set
        hard = min(reached, key=lambda n: reached[n])
        m.add("auroc_hardest", reached[hard][0], "AUROC", f"the best AUROC on the hardest set, {hard} "
              f"({reached[hard][1]})", noise=m[f"auroc_{reached[hard][1]}_{hard}"].noise)
        best = max(SCORES[1:], key=lambda s: m[f"mean_auroc_{s}"].value)
        gap = mean_auroc_gap_bootstrap(scores["test"][best], [scores[n][best] for n in OOD_SETS],
                                       scores["test"]["max-softmax"], [scores[n]["max-softmax"] for n in OOD_SETS],
                                       num=cfg.num_bootstrap, generator=ctx.generator("auroc-bootstrap"))
        m.add("auroc_gain", m[f"mean_auroc_{best}"].value - m["mean_auroc_max-softmax"].value, "AUROC",
              f"mean AUROC of the best Bayesian score ({best}) - max softmax's", noise=float(2 * gap.std()))
        pred = predictions(probs["test"])  # accuracy vs rejection: each method by its own score and predictions
        curves = {s: list(ood.rejection_curve(scores["test"][s], pred[SOURCE[s]] == y)) for s in SCORES}
        for key, name in (("det", "model"), ("mc", "MC-dropout mean"), ("ens", "ensemble mean")):
            m.add(f"acc_{key}", float((pred[key] == y).float().mean()), "fraction", f"test accuracy of the {name}")
        reg = self.regression(ctx, m)
        return self.result(ctx, metrics=m, figures=self.figures(conf, curves, reg, m))

    def regression(self, ctx: Context, m: Metrics) -> dict[str, list]:
        """Train the mean-variance net on [-2, 2]; split its MC-dropout variance into aleatoric and epistemic."""
        cfg = self.config
        train = heteroscedastic_1d(cfg.reg_points, generator=ctx.generator("regression"))
        model = train_mean_variance(train, ctx=ctx, dropout=cfg.reg_dropout, epochs=cfg.reg_epochs)
        grid = torch.linspace(-4.0, 4.0, 161).view(-1, 1)
        mu, aleatoric, epistemic, means = aleatoric_epistemic(model, grid, samples=cfg.reg_mc_samples,
                                                              generator=ctx.generator("regression-mc"))
        true_mean, true_std = truth(grid[:, 0])
        inside = (grid[:, 0] >= TRAIN_RANGE[0]) & (grid[:, 0] <= TRAIN_RANGE[1])
        ratio, boot = epistemic_ratio(means, ~inside, num=cfg.num_bootstrap, generator=ctx.generator("mc-bootstrap"))
        m.add("epistemic_in", float(epistemic[inside].mean()), "variance", "MC-dropout variance inside the range")
        m.add("epistemic_out", float(epistemic[~inside].mean()), "variance", "the same outside")
        m.add("epistemic_ratio", ratio, "ratio", "epistemic variance outside / inside", noise=float(2 * boot.std()))
        m.add("aleatoric_in", float(aleatoric[inside].mean()), "variance", "mean predicted noise variance inside")
        m.add("true_noise_var_in", float((true_std[inside] ** 2).mean()), "variance", "true noise variance inside")
        corr = torch.corrcoef(torch.stack([aleatoric[inside].sqrt(), true_std[inside]]))[0, 1]
        m.add("aleatoric_corr", float(corr), "correlation", "correlation of predicted and true noise std inside")
        return {"x": train.x[:, 0].tolist(), "y": train.y.tolist(), "grid": grid[:, 0].tolist(), "mu": mu.tolist(),
                "aleatoric": aleatoric.tolist(), "epistemic": epistemic.tolist(), "true_mean": true_mean.tolist()}

    def judge(self, m: MetricValues) -> Verdict:
        base = m["mean_auroc_max-softmax"]
        means = {s: v for s in SCORES[1:] if (v := m[f"mean_auroc_{s}"]) is not None}
        best = max(means, key=lambda s: means[s], default=SCORES[1:][0])
        parts = {"confident": decided(m["conf_ood"], 0.5, noise=margin(m, "conf_ood")),
                 "better": decided(m["auroc_gain"], 0.0, noise=margin(m, "auroc_gain")),
                 "imperfect": at_most(m["auroc_hardest"], 0.99, noise=margin(m, "auroc_hardest")),
                 "epistemic": at_least(m["epistemic_ratio"], 1.0, noise=margin(m, "epistemic_ratio"))}
        not_beaten = [n for n in OOD_SETS if at_most(m[f"auroc_mc-entropy_{n}"], m[f"auroc_max-softmax_{n}"])]
        text = (f"Mean max softmax {fmt(m['conf_ood'], '.2f')} on OOD inputs (test digits {fmt(m['conf_test'], '.2f')},"
                f" rotated {fmt(m['conf_rotated'], '.2f')}); mean AUROC max softmax {fmt(base, '.3f')} vs {best} "
                f"{fmt(m[f'mean_auroc_{best}'], '.3f')} (gain {fmt(m['auroc_gain'], '+.3f')} +- "
                f"{fmt(margin(m, 'auroc_gain'), '.3f')}; MC entropy {fmt(m['mean_auroc_mc-entropy'], '.3f')}, "
                f"ensemble {fmt(m['mean_auroc_ens-entropy'], '.3f')}); best AUROC on the hardest set "
                f"{fmt(m['auroc_hardest'], '.3f')}; regression epistemic variance {fmt(m['epistemic_ratio'], '.2f')}x "
                f"(+- {fmt(margin(m, 'epistemic_ratio'), '.2f')}) larger outside the training range")
        if not_beaten:
            text += f"; MC-dropout entropy does not beat max softmax on {', '.join(not_beaten)}"
        return Verdict.combine(parts, text, decisive=("confident", "better"))

    def figures(self, conf: dict, curves: dict, reg: dict, m: Metrics) -> list[Figure]:
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
                         title=f"{name} (mean {float(conf[name].mean()):.2f})", xlabel="max softmax",
                         bins=20, range=(0.0, 1.0)) for name in OOD_SETS],
            caption="Normalized histograms of the deterministic model's max softmax. Mass near 1 on an OOD set "
                    "means confident answers on inputs that hold no digit."),
            Figure("ood-auroc", "OOD detection AUROC per score and set", [figures.bars(list(OOD_SETS), [
                {"label": s, "values": [m[f"auroc_{s}_{n}"].value for n in OOD_SETS],
                 "err": [m[f"auroc_{s}_{n}"].noise for n in OOD_SETS]} for s in SCORES],
                ylabel="AUROC (0.5 = chance)", ylim=(0.0, 1.2))],
                caption="Higher is better; bars: 2 standard errors (Hanley & McNeil). max-softmax: the model "
                        "alone; mc-*: MC dropout; ens-entropy: ensemble."),
            Figure("rejection", "Accuracy vs rejection on the test digits", [
                figures.lines([figures.series(s, *curves[s]) for s in SCORES], ylabel="accuracy on the kept inputs",
                              xlabel="fraction rejected (most uncertain first)")],
                caption="Each method rejects by its own score and predicts with its own (mean) probabilities."),
            Figure("regression-bands", "Aleatoric vs epistemic uncertainty in 1-D regression", bands,
                   caption="A mean-and-variance network with dropout, trained on x in [-2, 2] (shaded), where the "
                           "noise grows with x. Left: the noise it predicts; right: how much its MC-dropout passes "
                           f"disagree: {m['epistemic_ratio'].value:.2f}x more variance outside the range than inside.")]
