"""Data hunger: with little data, engineered features beat end-to-end learning; missing data matters.

Sources: 002 ("Very data hungry (eg. often millions of examples)"), 000 ("The value of feature engineering"; "When
NOT to use end-to-end systems: ... when we do not have enough data"; "Correctly handling missing data when the data
is limited"). Dalal, Triggs. Histograms of oriented gradients. CVPR 2005. Little, Rubin. Statistical analysis with
missing data (MCAR / MNAR).

Protocol. Learning curves: for each of `num_seeds` draws, a class-balanced random order of the 1,437 train and
validation digits; its first n (n in `sizes`) train (a) the zoo CNN end to end (Adam, `epochs` epochs but at least
`min_steps` steps, no early stopping), (b) logistic regression on HOG features (9 orientations, 4x4-pixel cells, 2x2
blocks, on the digits upsampled to 16x16), (c) logistic regression on raw pixels (a reference line); test accuracy on
the 360 test digits. At n <= `small_n`, `small_draws` draws (the curves' first) are each scored on every digit they did
not train on (the test digits and the pool after its first `small_n`: about 1,700). Missing data: `missing_set` (breast
cancer), `missing_train` random training rows per seed, the rest for test; a fraction `missing_rate` of every column
removed completely at random (MCAR) or not at random (MNAR: probability proportional to the value's rank), in training
and test rows alike; an MLP with zero-fill, an MLP with mean imputation plus missing-indicator features, and
scikit-learn's HistGradientBoostingClassifier on the NaNs as they are; the MLP on the complete table as a reference.

Verdict: "little data" is judged at the sizes from `judged_from` to `small_n` (50 to 100 by default: five to ten
examples per class). Below five per class the draw of the few examples decides (at n = 10 a draw's gap has a standard
deviation of 6-9 points), the smaller sizes are reported with their floors, not judged; the verdict gives the smallest
size's gap and says when the CNN leads there beyond its noise. The small-n gap is HOG + logistic regression minus CNN
accuracy averaged over the judged sizes, the `small_draws` draws and each draw's held-out digits; its noise floor is the
larger of two standard errors over the draws (a draw's luck, which the digits do not see) and over the digits (per-digit
paired differences averaged over the draws that held the digit out). "small-n" = the gap exceeds its noise floor; it
fails (decisively) when the CNN leads by more than that floor, and is not shown inside it. "catch-up" = the crossover n
(the smallest n from which on the CNN's mean accuracy is >= HOG's at every larger n) exists and is above `small_n`;
"missing" = averaged over MCAR and MNAR, the handling gap (MLP with mean + indicators minus MLP with zero-fill) exceeds
0.02 and the model gap (|tree - MLP with mean + indicators|), each by more than the handling gap's spread over seeds.
The claim holds if every part holds; it fails if "small-n" fails; otherwise it is inconclusive. The evidence gives the
lead in points (small on 8x8 digits). 0.2.0 judged every n <= `small_n`: CHANGELOG.md says why that changed and how the
change was checked on new seeds.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data.subsets import balanced_order, digits_pool
from limitlab.data.tabular import LOADERS, MECHANISMS
from limitlab.models.small_data import curve_hits
from limitlab.models.tabular import STRATEGIES, missing_data_scores
from limitlab.result import Figure, Metric, Metrics, MetricValues, Result, Verdict, at_least, every, fmt
from limitlab.studies._rules import decided, draws_noise, margin
from limitlab.study import Study, register


@dataclass(frozen=True)
class DataHungerConfig(Checked):
    constraints: ClassVar = {
        "sizes": Each(Interval(10, 1437), min_len=2, unique=True), "small_n": Interval(10), "num_seeds": Interval(2),
        "judged_from": Interval(10), "small_draws": Interval(2), "epochs": Interval(1), "min_steps": Interval(1),
        "cnn_lr": Interval(0, closed="neither"), "logreg_c": Interval(0, closed="neither"),
        "missing_set": OneOf(tuple(LOADERS)), "missing_train": Interval(20, 400),
        "missing_rate": Interval(0, 0.5, closed="right"), "mlp_epochs": Interval(1)}
    sizes: tuple[int, ...] = (10, 30, 50, 100, 300, 1400)  # training-set sizes n, from the 1,437 train + val digits
    small_n: int = 100  # "little data": the sizes n <= small_n, each drawn small_draws times
    judged_from: int = 50  # "small-n" judges the sizes judged_from <= n <= small_n
    num_seeds: int = 3  # draws of the training subsets (and of the missing values) within one run
    small_draws: int = 8  # draws at the sizes n <= small_n (the first num_seeds are the curves')
    epochs: int = 20
    min_steps: int = 100
    cnn_lr: float = 2e-3
    logreg_c: float = 1.0
    missing_set: str = "breast-cancer"
    missing_train: int = 60
    missing_rate: float = 0.3
    mlp_epochs: int = 200

    def validate(self) -> None:
        check(list(self.sizes) == sorted(self.sizes), f"sizes={list(self.sizes)}; expected increasing sizes")
        check(self.sizes[0] <= self.small_n < self.sizes[-1], f"small_n={self.small_n}; expected a size from "
              f"{self.sizes[0]} (the smallest of sizes) to below {self.sizes[-1]} (the largest)")
        check(any(self.judged_from <= n <= self.small_n for n in self.sizes), f"judged_from={self.judged_from}; "
              f"expected at most small_n={self.small_n}, with one of sizes={list(self.sizes)} between the two")
        check(self.small_draws >= self.num_seeds, f"small_draws={self.small_draws}; expected >= num_seeds "
              f"({self.num_seeds}): the curves' draws are the first of them")


def crossover(sizes: tuple[int, ...], ours: np.ndarray, theirs: np.ndarray) -> int | None:
    """The smallest size from which on `ours` >= `theirs` at every larger size (None if never)."""
    ahead = np.asarray(ours) >= np.asarray(theirs)
    return next((n for j, n in enumerate(sizes) if ahead[j:].all()), None)


@register("data-hunger", chapter="generalization", sources=("000", "002"))
class DataHunger(Study[DataHungerConfig]):
    """Data hunger of end-to-end learning, and missing data with little data. Sources: 000, 002."""

    claim = ("With little data, hand-engineered features plus a simple model beat end-to-end learning, and the "
             "end-to-end net needs many more examples to catch up; with little data, how missing values are "
             "handled matters more than the model.")
    Config = DataHungerConfig
    presets = {
        "tiny": {"sizes": (10, 100), "small_n": 10, "judged_from": 10, "num_seeds": 2, "small_draws": 3, "epochs": 3,
                 "min_steps": 20, "mlp_epochs": 30},
        "full": {"sizes": (10, 20, 50, 100, 200, 500, 1000, 1437), "num_seeds": 8, "small_draws": 16, "epochs": 40,
                 "min_steps": 200},
    }

    def run(self, ctx: Context) -> Result:
        cfg, m = self.config, Metrics()
        with threadpool_limits(limits=ctx.threads):  # BLAS threads of scikit-learn / SciPy, like torch's
            orders = np.stack([balanced_order(digits_pool()[0].y.numpy(), ctx.rng("order", k))
                               for k in range(cfg.small_draws)])
            hits, held = curve_hits(orders, cfg.sizes, small_n=cfg.small_n, num_full=cfg.num_seeds, ctx=ctx,
                                    epochs=cfg.epochs, min_steps=cfg.min_steps, lr=cfg.cnn_lr, c=cfg.logreg_c)
            miss = missing_data_scores(cfg.missing_set, ctx=ctx, num_seeds=cfg.num_seeds, num_train=cfg.missing_train,
                                       rate=cfg.missing_rate, epochs=cfg.mlp_epochs)
        curves = {k: h[:cfg.num_seeds, :, :360].mean(2) for k, h in hits.items()}  # test accuracy, seeds x sizes
        for method, acc in curves.items():
            for j, n in enumerate(cfg.sizes):
                m[f"acc_{method}_n{n}"] = Metric.over_seeds(acc[:, j], "fraction",
                                                            f"test accuracy of {method} trained on {n} digits")
        diff, small = hits["hog"] - hits["cnn"], [j for j, n in enumerate(cfg.sizes) if n <= cfg.small_n]
        for j, n in enumerate(cfg.sizes):  # paired per digit; above small_n only the curves' draws, on the test digits
            d, h = (diff[:, j], held) if j in small else (diff[:cfg.num_seeds, j, :360], held[:cfg.num_seeds, :360])
            per_draw, noise = draws_noise(d, h)
            m[f"gap_n{n}"] = Metric.over_seeds(per_draw, "fraction", f"HOG + logreg minus CNN at n={n}", noise=noise)
        judged = [j for j in small if cfg.sizes[j] >= cfg.judged_from]
        per_draw, noise = draws_noise(diff[:, judged].mean(1), held)
        m["small_n_gap"] = Metric.over_seeds(per_draw, "fraction", noise=noise, description=f"HOG + logreg minus CNN, "
                                             f"mean over {cfg.judged_from} <= n <= {cfg.small_n} (values: per draw)")
        m.add("draws_positive", float(np.mean(per_draw > 0)), "fraction", "share of the draws with a positive gap")
        mean = {k: a.mean(0) for k, a in curves.items()}
        m.add("crossover_n", crossover(cfg.sizes, mean["cnn"], mean["hog"]), "examples",
              "smallest n from which on the CNN's mean accuracy >= HOG + logistic regression's")
        for name, values in miss.items():
            m[f"missing_{name}"] = Metric.over_seeds(values, "fraction",
                                                     f"{cfg.missing_set} test accuracy, {name.replace('/', ', ')}")
        handling = np.mean([miss[f"{k}/mlp-mean+indicators"] - miss[f"{k}/mlp-zero-fill"] for k in MECHANISMS], 0)
        model_gap = np.mean([abs(miss[f"{k}/tree-native-nan"].mean() - miss[f"{k}/mlp-mean+indicators"].mean())
                             for k in MECHANISMS])
        m["handling_gap"] = Metric.over_seeds(handling, "fraction", "MLP: mean + indicators minus zero-fill (mean "
                                              "over mechanisms; values: per seed)")
        m.add("model_gap", float(model_gap), "fraction", "|tree - MLP with mean + indicators| (mean over mechanisms)")
        return self.result(ctx, metrics=m, figures=self.figures(curves, miss, m))

    def figures(self, curves: Mapping[str, np.ndarray], miss: Mapping[str, np.ndarray], m: Metrics) -> list[Figure]:
        cfg, gap = self.config, [m[f"gap_n{n}"] for n in self.config.sizes]
        labels = {"cnn": "CNN (end to end)", "hog": "HOG + logistic regression",
                  "pixels": "pixels + logistic regression"}
        lc = Figure("learning-curves", "Learning curves on digits", [figures.lines(
            [figures.series(labels[m], cfg.sizes, a.mean(0), lo=a.min(0), hi=a.max(0)) for m, a in curves.items()],
            title=f"mean over {cfg.num_seeds} seeds (band: min to max)", xlabel="training examples n",
            ylabel="test accuracy", xscale="log", ylim=(0, 1), hlines=[{"y": 0.1, "label": "chance"}]),
            figures.lines([figures.series("HOG + logreg minus CNN", cfg.sizes, [g.value for g in gap],
                                          lo=[g.value - g.noise for g in gap], hi=[g.value + g.noise for g in gap])],
                          title="paired gap (band: noise floor)", xlabel="training examples n", ylabel="accuracy gap",
                          xscale="log", hlines=[{"y": 0.0, "label": "no gap"}],
                          vspans=[{"x0": cfg.judged_from, "x1": cfg.small_n, "label": "little data (judged)"}])],
            caption="Each draw is its own class-balanced order of training digits (nested: n grows by adding "
                    f"examples). Gap: at n <= {cfg.small_n}, {cfg.small_draws} draws on every digit each held out; "
                    f"above, the curves' {cfg.num_seeds} on the 360 test digits. Band: the larger of two standard "
                    "errors over the draws and over the digits.")
        cats = [m.upper() for m in MECHANISMS]
        groups = [{"label": s, "values": [miss[f"{m}/{s}"].mean() for m in MECHANISMS],
                   "err": [miss[f"{m}/{s}"].std(ddof=1) for m in MECHANISMS]} for s in STRATEGIES]
        lo = min(min(g["values"]) for g in groups)
        bars = Figure("missing-data", f"Missing data: {cfg.missing_set}, {cfg.missing_train} training rows", [
            figures.bars(cats, groups, title=f"{cfg.missing_rate:.0%} of every column missing", ylabel="test accuracy",
                         ylim=(max(0.0, lo - 0.15), 1.0))],
            caption=(f"Mean over {cfg.num_seeds} seeds (error bar: standard deviation). The MLP on the complete "
                     f"table reaches {miss['complete'].mean():.1%}."))
        return [lc, bars]

    def smallest(self, m: MetricValues) -> str:
        """The smallest size's gap when it is below the judged range: reported, and named when the CNN leads there."""
        n0 = self.config.sizes[0]
        gap, noise = m[f"gap_n{n0}"], getattr(m.metric(f"gap_n{n0}"), "noise", None)
        if n0 >= self.config.judged_from or gap is None:
            return ""
        beyond = "; the CNN leads there beyond its noise" if noise is not None and gap < -noise else ""
        return f" (gap {fmt(gap, '+.1%')}, floor {fmt(noise, '.1%')}, not judged{beyond})"

    def judge(self, m: MetricValues) -> Verdict:
        n0, n1, small, lo = self.config.sizes[0], self.config.sizes[-1], self.config.small_n, self.config.judged_from
        gap, noise, positive = m["small_n_gap"], getattr(m.metric("small_n_gap"), "noise", None), m["draws_positive"]
        cross, handling, model_gap = m["crossover_n"], m["handling_gap"], m["model_gap"]
        spread = margin(m, "handling_gap")
        parts = {"small-n": decided(gap, 0.0, noise=noise),
                 "catch-up": None if cross is None else cross > small,
                 "missing": every([at_least(handling, t, noise=spread) for t in (0.02, model_gap)])}
        text = (f"Over {lo} <= n <= {small}, HOG + logistic regression leads the CNN by {fmt(gap, '+.1%')} (noise "
                f"floor {fmt(noise, '.1%')}; positive in {fmt(positive, '.0%')} of the draws)"
                f"{': a small effect on 8x8 digits' if gap is not None and gap < 0.05 else ''}; at n={n0} "
                f"{fmt(m[f'acc_hog_n{n0}'], '.1%')} vs {fmt(m[f'acc_cnn_n{n0}'], '.1%')}{self.smallest(m)}, at n={n1} "
                f"{fmt(m[f'acc_hog_n{n1}'], '.1%')} vs {fmt(m[f'acc_cnn_n{n1}'], '.1%')}; "
                + ("the CNN never catches up in the grid" if cross is None else f"the CNN catches up from n={cross:g}")
                + f"; missing data: mean + indicators beats zero-fill by {fmt(handling, '+.1%')} "
                  f"while tree vs MLP differ by {fmt(model_gap, '.1%')}")
        why = "the CNN leads beyond the noise" if parts["small-n"] is False else "the gap is inside its noise floor"
        return Verdict.combine(parts, text, decisive=("small-n",), missing={"small-n": f"Not shown: small-n ({why})."})
