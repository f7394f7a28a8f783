"""Uncertainty: a softmax classifier is confident on inputs unlike its training data; Bayesian
approximations flag them better, though not perfectly.

Hendrycks, Gimpel. A baseline for detecting misclassified and out-of-distribution examples in neural
networks. ICLR 2017, arXiv:1610.02136. Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016,
arXiv:1506.02142. Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty
estimation using deep ensembles. NeurIPS 2017, arXiv:1612.01474. Kendall, Gal. What uncertainties do we
need in Bayesian deep learning for computer vision? NeurIPS 2017, arXiv:1703.04977. Sources: 002 (P(cat)
+ P(dog) = 1; T stochastic forward passes with dropout), 001.

Protocol: `num_members` zoo CNNs (with dropout) trained on digits from different initializations (a deep
ensemble); member 0 is "the" model. Out-of-distribution sets: glyphs (letters and symbols), uniform
noise, Gaussian blobs, inverted test digits (1 - x) and test digits rotated by `rotation` degrees. OOD
scores (higher = more unusual): 1 - max softmax of the model; predictive entropy and mutual information
of `mc_samples` MC-dropout passes; predictive entropy of the ensemble. Per score and set: AUROC and FPR
at 95% TPR against the digits test set. Accuracy vs rejection on the test set, each method rejecting by
its own score and predicting with its own mean probabilities. Regression: a 1-D problem with noise that
grows along x, trained on [-2, 2]; a network with dropout predicts a mean and a variance (Gaussian
NLL). Over `reg_mc_samples` MC-dropout passes on [-4, 4], the mean predicted variance is the aleatoric
part and the variance of the predicted means the epistemic part.

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
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab import figures, ood, uncertainty
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits, glyphs
from limitlab.data.transforms import rotate
from limitlab.models import TrainConfig, fit
from limitlab.models.ensemble import train_members
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

OOD_SETS = ("glyphs", "noise", "blobs", "inverted", "rotated")
SCORES = ("max-softmax", "mc-entropy", "mc-mi", "ens-entropy")
BAYES = SCORES[1:]
TRAIN_RANGE = (-2.0, 2.0)
PLOT_RANGE = (-4.0, 4.0)


@dataclass(frozen=True)
class UncertaintyConfig:
    num_members: int = 5
    epochs: int = 10
    dropout: float = 0.25
    mc_samples: int = 20
    num_test: int = 360
    num_ood: int = 150  # inputs per OOD set (glyphs has 270)
    rotation: float = 90.0
    reg_points: int = 300
    reg_epochs: int = 100
    reg_dropout: float = 0.1
    reg_mc_samples: int = 100

    def __post_init__(self) -> None:
        check(self.num_members >= 2, f"num_members={self.num_members}; expected >= 2 (an ensemble)")
        check(self.epochs >= 1 and self.reg_epochs >= 1, "epochs and reg_epochs must be >= 1")
        check(0 < self.dropout < 1 and 0 < self.reg_dropout < 1, "dropout and reg_dropout must be in (0, 1)")
        check(self.mc_samples >= 2 and self.reg_mc_samples >= 2, "mc_samples and reg_mc_samples must be >= 2")
        check(1 <= self.num_test <= 360, f"num_test={self.num_test}; expected 1..360 (the digits test set)")
        check(1 <= self.num_ood <= 270, f"num_ood={self.num_ood}; expected 1..270 (glyphs has 270 images)")
        check(self.reg_points >= 20, f"reg_points={self.reg_points}; expected >= 20")


def blobs(num: int, gen: torch.Generator) -> Tensor:
    """One to three Gaussian blobs per 8x8 image (random centre, width, weight), peak scaled to 1."""
    centre = 1.5 + 5.0 * torch.rand(num, 3, 2, generator=gen)
    width = 0.7 + 1.1 * torch.rand(num, 3, 1, 1, generator=gen)
    weight = (torch.rand(num, 3, generator=gen) < torch.tensor([1.0, 0.6, 0.3])).float()
    grid = torch.arange(8.0)
    dy = (grid.view(1, 1, 8, 1) - centre[..., 0, None, None]) ** 2
    dx = (grid.view(1, 1, 1, 8) - centre[..., 1, None, None]) ** 2
    img = (weight[..., None, None] * torch.exp(-(dx + dy) / (2 * width ** 2))).sum(1, keepdim=True)
    return img / img.flatten(1).max(1).values.view(-1, 1, 1, 1)


def ood_sets(test_x: Tensor, cfg: UncertaintyConfig, ctx: Context) -> dict[str, Tensor]:
    n = cfg.num_ood
    g = glyphs().x
    pick = torch.randperm(len(test_x), generator=ctx.generator("ood-pick"))[:n]
    return {
        "glyphs": g[torch.randperm(len(g), generator=ctx.generator("glyphs"))[:n]],
        "noise": torch.rand(n, 1, 8, 8, generator=ctx.generator("noise")),
        "blobs": blobs(n, ctx.generator("blobs")),
        "inverted": 1.0 - test_x[pick],
        "rotated": rotate(test_x[pick], cfg.rotation).clamp(0, 1),
    }


class MeanVarianceNet(nn.Module):
    """x -> (mean, variance) with dropout after each hidden layer (heteroscedastic regression)."""

    def __init__(self, hidden: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 2))

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        return torch.stack([out[:, 0], F.softplus(out[:, 1]) + 1e-4], dim=1)


def gaussian_nll(out: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y under N(out[:, 0], out[:, 1]) (the aleatoric loss of Kendall & Gal)."""
    return F.gaussian_nll_loss(out[:, 0], y, out[:, 1], full=True, reduction=reduction)


def truth(x: Tensor) -> tuple[Tensor, Tensor]:
    """The regression problem: mean sin(1.5 x) + 0.3 x, noise std rising from 0.05 to 0.35 over [-2, 2]."""
    return torch.sin(1.5 * x) + 0.3 * x, 0.05 + 0.075 * (x + 2).clamp(min=0)



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
        cfg, data = self.config, digits()
        x, y = data.test.x[:cfg.num_test], data.test.y[:cfg.num_test]
        models = train_members(ctx, num_members=cfg.num_members, epochs=cfg.epochs, dropout=cfg.dropout)
        inputs = {"test": x, **ood_sets(data.test.x, cfg, ctx)}
        probs = {name: self.predict(models, v, ctx.derive_seed("mc", name)) for name, v in inputs.items()}
        scores = {name: self.scores(p) for name, p in probs.items()}
        metrics: dict[str, Metric | float | tuple] = {}
        conf = {name: float(uncertainty.max_softmax(p["det"]).mean()) for name, p in probs.items()}
        for name in inputs:
            metrics[f"conf_{name}"] = (conf[name], "probability", f"the model's mean max softmax on {name}")
        for s in SCORES:
            for name in OOD_SETS:
                metrics[f"auroc_{s}_{name}"] = (ood.auroc(scores["test"][s], scores[name][s]), "AUROC",
                                                f"{s} separating test digits from {name}")
                metrics[f"fpr95_{s}_{name}"] = (ood.fpr_at_tpr(scores["test"][s], scores[name][s]), "fraction",
                                                f"{name} inputs accepted by {s} when 95% of test digits are")
            metrics[f"mean_auroc_{s}"] = (sum(metrics[f"auroc_{s}_{n}"][0] for n in OOD_SETS) / len(OOD_SETS),
                                          "AUROC", f"{s} AUROC averaged over the OOD sets")
        curves = self.rejection(probs["test"], scores["test"], y, metrics)
        reg = self.regression(ctx, metrics)
        tables = [self.table(probs, metrics)]
        return self.result(ctx, metrics=metrics, tables=tables,
                           figures=self.figures(probs, curves, reg, metrics))

    def predict(self, models: list[nn.Module], x: Tensor, seed: int) -> dict[str, Tensor]:
        """Probabilities: the model in eval mode (N, C), MC dropout (T, N, C), the ensemble (M, N, C)."""
        return {"det": uncertainty.ensemble(models[:1], x)[0],
                "mc": uncertainty.mc_dropout(models[0], x, samples=self.config.mc_samples, seed=seed),
                "ens": uncertainty.ensemble(models, x)}

    @staticmethod
    def scores(p: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"max-softmax": 1 - uncertainty.max_softmax(p["det"]),
                "mc-entropy": uncertainty.predictive_entropy(p["mc"]),
                "mc-mi": uncertainty.mutual_information(p["mc"]),
                "ens-entropy": uncertainty.predictive_entropy(p["ens"])}

    @staticmethod
    def rejection(p: dict[str, Tensor], s: dict[str, Tensor], y: Tensor, metrics: dict) -> dict[str, list]:
        """Accuracy vs rejection rate per score, each method predicting with its own mean probabilities."""
        source = {"max-softmax": "det", "mc-entropy": "mc", "mc-mi": "mc", "ens-entropy": "ens"}
        curves = {}
        for score in SCORES:
            pred = p[source[score]].mean(0).argmax(-1) if source[score] != "det" else p["det"].argmax(-1)
            rates, acc = ood.rejection_curve(s[score], pred == y)
            curves[score] = [rates, acc]
            metrics[f"acc_reject20_{score}"] = (acc[rates.index(0.2)], "fraction",
                                                f"test accuracy after rejecting the 20% with highest {score}")
        for key, name in (("det", "model"), ("mc", "MC-dropout mean"), ("ens", "ensemble mean")):
            pred = p[key].argmax(-1) if key == "det" else p[key].mean(0).argmax(-1)
            metrics[f"acc_{key}"] = (float((pred == y).float().mean()), "fraction", f"test accuracy of the {name}")
        return curves

    def regression(self, ctx: Context, metrics: dict) -> dict[str, list]:
        """Train the mean-variance net on [-2, 2]; split its MC-dropout variance into aleatoric and epistemic."""
        cfg = self.config
        gen = ctx.generator("regression")
        x = TRAIN_RANGE[0] + (TRAIN_RANGE[1] - TRAIN_RANGE[0]) * torch.rand(cfg.reg_points, 1, generator=gen)
        mean, std = truth(x[:, 0])
        y = mean + std * torch.randn(cfg.reg_points, generator=gen)
        with ctx.seeded_torch("regression-init"):
            model = MeanVarianceNet(dropout=cfg.reg_dropout)
        fit(model, ArrayDataset(x, y, "regression-1d", 0, (-4.0, 4.0)), ctx=ctx, loss_fn=gaussian_nll,
            config=TrainConfig(epochs=cfg.reg_epochs, batch_size=32, lr=3e-3, patience=None, eval_train=False),
            description="train regression")
        grid = torch.linspace(*PLOT_RANGE, 161).view(-1, 1)
        out = uncertainty.mc_dropout(model, grid, samples=cfg.reg_mc_samples, softmax=False,
                                     seed=ctx.derive_seed("regression-mc"))
        mu, aleatoric, epistemic = out[..., 0].mean(0), out[..., 1].mean(0), out[..., 0].var(0)
        inside = (grid[:, 0] >= TRAIN_RANGE[0]) & (grid[:, 0] <= TRAIN_RANGE[1])
        true_std = truth(grid[:, 0])[1]
        corr = torch.corrcoef(torch.stack([aleatoric[inside].sqrt(), true_std[inside]]))[0, 1]
        metrics["epistemic_in"] = (float(epistemic[inside].mean()), "variance",
                                   "MC-dropout variance of the mean inside [-2, 2]")
        metrics["epistemic_out"] = (float(epistemic[~inside].mean()), "variance", "the same outside the training range")
        metrics["epistemic_ratio"] = (metrics["epistemic_out"][0] / max(metrics["epistemic_in"][0], 1e-12), "ratio",
                                      "epistemic variance outside / inside the training range")
        metrics["aleatoric_in"] = (float(aleatoric[inside].mean()), "variance", "mean predicted noise variance inside")
        metrics["true_noise_var_in"] = (float((true_std[inside] ** 2).mean()), "variance", "true noise variance inside")
        metrics["aleatoric_corr"] = (float(corr), "correlation", "correlation of predicted and true noise std inside")
        return {"x": x[:, 0].tolist(), "y": y.tolist(), "grid": grid[:, 0].tolist(), "mu": mu.tolist(),
                "aleatoric": aleatoric.tolist(), "epistemic": epistemic.tolist(),
                "true_mean": truth(grid[:, 0])[0].tolist()}

    @staticmethod
    def table(probs: dict, metrics: dict) -> Table:
        rows = []
        for name in ("test", *OOD_SETS):
            p = probs[name]
            row = [name, f"{float(uncertainty.max_softmax(p['det']).mean()):.3f}",
                   f"{float(uncertainty.max_softmax(p['mc']).mean()):.3f}",
                   f"{float(uncertainty.max_softmax(p['ens']).mean()):.3f}"]
            row += ["" if name == "test" else f"{metrics[f'auroc_{s}_{name}'][0]:.3f}" for s in SCORES]
            rows.append(row)
        return Table("Confidence and OOD detection per set",
                     ["set", "conf (model)", "conf (MC mean)", "conf (ensemble)",
                      *[f"AUROC {s}" for s in SCORES]], rows,
                     caption="Mean max softmax of each predictor; AUROC of each score against the test digits.")

    def figures(self, probs: dict, curves: dict, reg: dict, metrics: dict) -> list[Figure]:
        conf = {name: uncertainty.max_softmax(p["det"]).tolist() for name, p in probs.items()}
        hists = Figure("confidence", "Confidence of the model: test digits vs each out-of-distribution set", [
            figures.hist([{"label": "test digits", "values": conf["test"]}, {"label": name, "values": conf[name]}],
                         title=f"{name} (mean {sum(conf[name]) / len(conf[name]):.2f})", xlabel="max softmax",
                         bins=20, range=(0.0, 1.0)) for name in OOD_SETS],
            caption="Normalized histograms of the deterministic model's max softmax. Mass near 1 on an OOD set "
                    "means confident answers on inputs that hold no digit.")
        aurocs = Figure("ood-auroc", "OOD detection AUROC per score and set", [
            figures.bars(list(OOD_SETS), [{"label": s, "values": [metrics[f"auroc_{s}_{n}"][0] for n in OOD_SETS]}
                                          for s in SCORES], ylabel="AUROC (0.5 = chance)", ylim=(0.0, 1.2))],
            caption="Higher is better. max-softmax: the model alone; mc-*: MC dropout; ens-entropy: deep ensemble.")
        reject = Figure("rejection", "Accuracy vs rejection on the test digits", [
            figures.lines([figures.series(s, *curves[s]) for s in SCORES],
                          xlabel="fraction rejected (most uncertain first)",
                          ylabel="accuracy on the kept inputs")],
            caption="Each method rejects by its own score and predicts with its own (mean) probabilities.")
        return [hists, aurocs, reject, self.band_figure(reg)]

    @staticmethod
    def band_figure(reg: dict) -> Figure:
        grid, mu = reg["grid"], reg["mu"]
        span = [{"x0": TRAIN_RANGE[0], "x1": TRAIN_RANGE[1], "label": "training range"}]
        panels = []
        for part, title in (("aleatoric", "aleatoric: mean predicted noise (±2σ)"),
                            ("epistemic", "epistemic: spread of MC-dropout means (±2σ)")):
            sd = [2 * math.sqrt(max(v, 0.0)) for v in reg[part]]
            panels.append(figures.lines([
                figures.series("training data", reg["x"], reg["y"], style="points"),
                figures.series("true mean", grid, reg["true_mean"], style="line"),
                figures.series("predicted mean ±2σ", grid, mu, lo=[m - s for m, s in zip(mu, sd)],
                               hi=[m + s for m, s in zip(mu, sd)], style="line"),
            ], title=title, xlabel="x", ylabel="y", vspans=span, ylim=(-3.5, 3.5)))
        return Figure("regression-bands", "Aleatoric vs epistemic uncertainty in 1-D regression", panels,
                      caption="A mean-and-variance network with dropout, trained on x in [-2, 2] (shaded), where "
                              "the noise grows with x. Left: the noise it predicts; right: how much its MC-dropout "
                              "passes disagree.")

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        ood_conf = sum(m[f"conf_{n}"] for n in OOD_SETS) / len(OOD_SETS)
        base = m["mean_auroc_max-softmax"]
        best = max(BAYES, key=lambda s: m[f"mean_auroc_{s}"])
        worst_set = min(OOD_SETS, key=lambda n: max(m[f"auroc_{s}_{n}"] for s in SCORES))
        parts = {
            "confident": ood_conf >= 0.5,
            "better": m[f"mean_auroc_{best}"] >= base + 0.02,
            "imperfect": max(m[f"auroc_{s}_{worst_set}"] for s in SCORES) < 0.99,
            "epistemic": m["epistemic_ratio"] >= 2,
        }
        not_beaten = [n for n in OOD_SETS if m[f"auroc_mc-entropy_{n}"] <= m[f"auroc_max-softmax_{n}"]]
        text = (f"Mean max softmax {ood_conf:.2f} on OOD inputs (test digits {m['conf_test']:.2f}, rotated "
                f"{m['conf_rotated']:.2f}); mean AUROC max softmax {base:.3f} vs {best} {m[f'mean_auroc_{best}']:.3f} "
                f"(MC entropy {m['mean_auroc_mc-entropy']:.3f}, ensemble {m['mean_auroc_ens-entropy']:.3f}); "
                f"hardest set {worst_set}; regression epistemic variance {m['epistemic_ratio']:.2f}x larger "
                f"outside the training range")
        if not_beaten:
            text += f"; MC-dropout entropy does not beat max softmax on {', '.join(not_beaten)}"
        failed = [name for name, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if {"confident", "better"} & set(failed) else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
