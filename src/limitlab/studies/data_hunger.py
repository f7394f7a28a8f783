"""Data hunger: with little data, engineered features beat end-to-end learning; missing data matters.

Sources: 002 ("Very data hungry (eg. often millions of examples)"), 000 ("The value of feature
engineering"; "When NOT to use end-to-end systems: ... when we do not have enough data"; "Correctly
handling missing data when the data is limited"). Dalal, Triggs. Histograms of oriented gradients.
CVPR 2005. Little, Rubin. Statistical analysis with missing data (MCAR / MNAR).

Protocol. Learning curves: for each of `num_seeds` seeds, a class-balanced random order of the
1,437 digits of the train and validation sets; the first n examples (n in `sizes`) train (a) the zoo
CNN end to end (Adam, `epochs` epochs but at least `min_steps` steps, no early stopping), (b)
logistic regression on HOG features (9 orientations, 4x4-pixel cells, 2x2 blocks, on the digits
upsampled to 16x16), (c) logistic regression on raw pixels (a reference line). Test accuracy on the
360 test digits. Missing data: `missing_set` (breast cancer by default), `missing_train` random
training rows per seed, the rest for test; a fraction `missing_rate` of every column removed
completely at random (MCAR) or not at random (MNAR: probability proportional to the value's rank),
in training and test rows alike; an MLP with zero-fill, an MLP with mean imputation plus
missing-indicator features, and scikit-learn's HistGradientBoostingClassifier on the NaNs as they
are; the MLP on the complete table as a reference.

Verdict: with means over the seeds, "small-n" = at the smallest n, HOG + logistic regression beats
the CNN by >= 0.05 accuracy; "catch-up" = the crossover n (the smallest n from which on the CNN's
accuracy is >= HOG's at every larger n) exists and is larger than the smallest n; "missing" = averaged
over MCAR and MNAR, the handling gap (MLP with mean + indicators minus MLP with zero-fill) is >= 0.02
and at least the model gap (|tree - MLP with mean + indicators|). The claim holds if every part
holds; it fails if "small-n" fails (the end-to-end net is not worse with little data); otherwise it
is inconclusive.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.data.features import hog_features
from limitlab.data.tabular import LOADERS, MECHANISMS, inject_missing, tabular
from limitlab.models import TrainConfig, build, evaluate, fit
from limitlab.result import Figure, Metric, Result, Verdict
from limitlab.study import Study, register

METHODS = ("cnn", "hog", "pixels")
STRATEGIES = ("mlp-zero-fill", "mlp-mean+indicators", "tree-native-nan")


@dataclass(frozen=True)
class DataHungerConfig:
    sizes: tuple[int, ...] = (10, 30, 100, 300, 1400)
    num_seeds: int = 3
    epochs: int = 20
    min_steps: int = 100
    cnn_lr: float = 2e-3
    logreg_c: float = 1.0
    missing_set: str = "breast-cancer"
    missing_train: int = 60
    missing_rate: float = 0.3
    mlp_epochs: int = 200

    def __post_init__(self) -> None:
        check(len(self.sizes) >= 2 and list(self.sizes) == sorted(set(self.sizes)),
              f"sizes={self.sizes}; expected at least two increasing training-set sizes")
        check(10 <= self.sizes[0] and self.sizes[-1] <= 1437,
              f"sizes={self.sizes}; expected sizes in 10..1437 (the digits train + validation sets)")
        check(self.num_seeds >= 2, f"num_seeds={self.num_seeds}; expected >= 2 (curves report spread over seeds)")
        check(self.epochs >= 1 and self.min_steps >= 1 and self.mlp_epochs >= 1, "epochs, min_steps, mlp_epochs must be >= 1")
        check(self.cnn_lr > 0 and self.logreg_c > 0, "cnn_lr and logreg_c must be > 0")
        check(self.missing_set in LOADERS, f"missing_set={self.missing_set!r}; valid: {', '.join(LOADERS)}")
        check(20 <= self.missing_train <= 400, f"missing_train={self.missing_train}; expected 20..400 rows")
        check(0 < self.missing_rate <= 0.5, f"missing_rate={self.missing_rate}; expected 0 < rate <= 0.5")


def balanced_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the indices whose every prefix is as class-balanced as possible."""
    perm = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):  # a loop over classes
        members = perm[y[perm] == c]
        rank[members] = np.arange(len(members))
    return perm[np.argsort(rank[perm], kind="stable")]


def crossover(sizes: tuple[int, ...], ours: np.ndarray, theirs: np.ndarray) -> int | None:
    """The smallest size from which on `ours` >= `theirs` at every larger size (None if never)."""
    ahead = np.asarray(ours) >= np.asarray(theirs)
    return next((n for j, n in enumerate(sizes) if ahead[j:].all()), None)


@functools.lru_cache(maxsize=4)
def _hog(index: tuple[int, ...]) -> np.ndarray:
    """HOG features of the digits pool (train + val) rows in `index`, then the test set."""
    pool, test = _pool()
    return hog_features(np.concatenate([pool.x[list(index)].numpy(), test.x.numpy()]))


@functools.lru_cache(maxsize=1)
def _pool() -> tuple[ArrayDataset, ArrayDataset]:
    d = digits()
    pool = ArrayDataset(torch.cat([d.train.x, d.val.x]), torch.cat([d.train.y, d.val.y]), "digits-train+val", 10)
    return pool, d.test


@register("data-hunger", chapter="generalization", sources=("000", "002"))
class DataHunger(Study[DataHungerConfig]):
    """Data hunger of end-to-end learning, and missing data with little data. Sources: 000, 002."""

    claim = ("With little data, hand-engineered features plus a simple model beat end-to-end learning, and the "
             "end-to-end net needs many more examples to catch up; with little data, how missing values are "
             "handled matters more than the model.")
    Config = DataHungerConfig
    presets = {
        "tiny": {"sizes": (10, 100), "num_seeds": 2, "epochs": 3, "min_steps": 20, "mlp_epochs": 30},
        "full": {"sizes": (10, 20, 50, 100, 200, 500, 1000, 1437), "num_seeds": 8, "epochs": 40, "min_steps": 200},
    }

    def cnn_accuracy(self, train: ArrayDataset, test: ArrayDataset, ctx: Context, seed: int) -> float:
        cfg, n = self.config, len(train)
        batch = min(64, n)
        epochs = max(cfg.epochs, -(-cfg.min_steps // -(-n // batch)))
        with ctx.seeded_torch("torch", "cnn", seed, n):
            model = build("cnn")
            fit(model, train, ctx=ctx, config=TrainConfig(epochs=epochs, batch_size=batch, lr=cfg.cnn_lr, patience=None,
                                                         eval_train=False),
                description=f"cnn n={n}")
        return evaluate(model, test)[1]

    def logreg_accuracy(self, f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray) -> float:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=self.config.logreg_c, max_iter=2000))
        return float(clf.fit(f_train, y_train).score(f_test, y_test))

    def learning_curves(self, ctx: Context) -> dict[str, np.ndarray]:
        """Test accuracy, method -> array (num_seeds x len(sizes))."""
        cfg = self.config
        pool, test = _pool()
        y_pool, top = pool.y.numpy(), cfg.sizes[-1]
        orders = [balanced_order(y_pool, ctx.rng("order", k))[:top] for k in range(cfg.num_seeds)]
        needed = tuple(sorted(set(np.concatenate(orders).tolist())))
        feats = _hog(needed)
        row = {i: r for r, i in enumerate(needed)}
        f_test, y_test = feats[len(needed):], test.y.numpy()
        flat_pool, flat_test = pool.x.flatten(1).numpy(), test.x.flatten(1).numpy()
        acc = {m: np.zeros((cfg.num_seeds, len(cfg.sizes))) for m in METHODS}
        jobs = [(k, j) for k in range(cfg.num_seeds) for j in range(len(cfg.sizes))]
        for k, j in ctx.progress.track(jobs, description="learning curves"):
            idx = orders[k][:cfg.sizes[j]]
            acc["cnn"][k, j] = self.cnn_accuracy(pool.subset(np.sort(idx)), test, ctx, k)
            acc["hog"][k, j] = self.logreg_accuracy(feats[[row[i] for i in idx]], y_pool[idx], f_test, y_test)
            acc["pixels"][k, j] = self.logreg_accuracy(flat_pool[idx], y_pool[idx], flat_test, y_test)
        return acc

    def mlp_accuracy(self, x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, y_te: np.ndarray,
                     ctx: Context, *names: object) -> float:
        scaler = StandardScaler().fit(x_tr)
        z_tr, z_te = (torch.tensor(scaler.transform(a), dtype=torch.float32) for a in (x_tr, x_te))
        bounds = (float(min(z_tr.min(), z_te.min())), float(max(z_tr.max(), z_te.max())))
        tr = ArrayDataset(z_tr, torch.from_numpy(y_tr), "tabular-train", 2, bounds)
        te = ArrayDataset(z_te, torch.from_numpy(y_te), "tabular-test", 2, bounds)
        with ctx.seeded_torch("torch", "mlp", *names):
            model = build("mlp", in_shape=(x_tr.shape[1],), num_classes=int(y_tr.max()) + 1, hidden=(64,))
            fit(model, tr, ctx=ctx, description="tabular mlp",
                config=TrainConfig(epochs=self.config.mlp_epochs, batch_size=len(tr), lr=3e-3, patience=None, eval_train=False))
        return evaluate(model, te)[1]

    def missing(self, ctx: Context) -> dict[str, np.ndarray]:
        """Test accuracy, (mechanism, strategy) or "complete" -> array over seeds."""
        cfg = self.config
        x, y, _ = tabular(cfg.missing_set)
        out: dict[str, np.ndarray] = {}
        for k in range(cfg.num_seeds):
            perm = ctx.rng("missing-split", k).permutation(len(y))
            tr, te = perm[:cfg.missing_train], perm[cfg.missing_train:]
            scores = {"complete": self.mlp_accuracy(x[tr], y[tr], x[te], y[te], ctx, "complete", k)}
            for mech in MECHANISMS:
                xm = inject_missing(x, rate=cfg.missing_rate, mechanism=mech, rng=ctx.rng("missing", mech, k))
                miss = np.isnan(xm)
                zero = np.where(miss, 0.0, xm)
                means = np.nanmean(xm[tr], axis=0)
                imputed = np.hstack([np.where(miss, means, xm), miss.astype(np.float64)])
                scores[f"{mech}/mlp-zero-fill"] = self.mlp_accuracy(zero[tr], y[tr], zero[te], y[te], ctx, mech, "zero", k)
                scores[f"{mech}/mlp-mean+indicators"] = self.mlp_accuracy(imputed[tr], y[tr], imputed[te], y[te],
                                                                          ctx, mech, "mean", k)
                tree = HistGradientBoostingClassifier(random_state=ctx.derive_seed("tree", mech, k))
                scores[f"{mech}/tree-native-nan"] = float(tree.fit(xm[tr], y[tr]).score(xm[te], y[te]))
            for name, value in scores.items():
                out.setdefault(name, np.zeros(cfg.num_seeds))[k] = value
        return out

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        with threadpool_limits(limits=ctx.threads):  # BLAS threads of scikit-learn / SciPy, like torch's
            curves, miss = self.learning_curves(ctx), self.missing(ctx)
        metrics: dict[str, Metric] = {}
        for method, acc in curves.items():
            for j, n in enumerate(cfg.sizes):
                metrics[f"acc_{method}_n{n}"] = _spread(acc[:, j], f"test accuracy of {method} trained on {n} digits")
        mean = {m: a.mean(0) for m, a in curves.items()}
        metrics["crossover_n"] = Metric(crossover(cfg.sizes, mean["cnn"], mean["hog"]), "examples",
                                        "smallest n from which on the CNN's mean accuracy >= HOG + logistic regression's")
        metrics["small_n_gap"] = Metric(float(mean["hog"][0] - mean["cnn"][0]), "fraction",
                                        f"HOG + logreg minus CNN accuracy at n={cfg.sizes[0]}")
        for name, values in miss.items():
            metrics[f"missing_{name}"] = _spread(values, f"{cfg.missing_set} test accuracy, {name.replace('/', ', ')}")
        handling = np.mean([miss[f"{m}/mlp-mean+indicators"] - miss[f"{m}/mlp-zero-fill"] for m in MECHANISMS])
        model_gap = np.mean([abs(miss[f"{m}/tree-native-nan"].mean() - miss[f"{m}/mlp-mean+indicators"].mean())
                             for m in MECHANISMS])
        metrics["handling_gap"] = Metric(float(handling), "fraction", "MLP: mean + indicators minus zero-fill (mean over mechanisms)")
        metrics["model_gap"] = Metric(float(model_gap), "fraction", "|tree - MLP with mean + indicators| (mean over mechanisms)")
        return self.result(ctx, metrics=metrics, figures=self.figures(curves, miss))

    def figures(self, curves: Mapping[str, np.ndarray], miss: Mapping[str, np.ndarray]) -> list[Figure]:
        cfg = self.config
        labels = {"cnn": "CNN (end to end)", "hog": "HOG + logistic regression", "pixels": "pixels + logistic regression"}
        lc = Figure("learning-curves", "Learning curves on digits", [figures.lines(
            [figures.series(labels[m], cfg.sizes, a.mean(0), lo=a.min(0), hi=a.max(0)) for m, a in curves.items()],
            title=f"mean over {cfg.num_seeds} seeds (band: min to max)", xlabel="training examples n",
            ylabel="test accuracy", xscale="log", ylim=(0, 1), hlines=[{"y": 0.1, "label": "chance"}])],
            caption="Each seed draws its own class-balanced training subsets (nested: n grows by adding examples).")
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

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config
        n0, n1 = cfg.sizes[0], cfg.sizes[-1]
        cross = m["crossover_n"]
        parts = {"small-n": m["small_n_gap"] >= 0.05,
                 "catch-up": cross is not None and cross > n0,
                 "missing": m["handling_gap"] >= 0.02 and m["handling_gap"] >= m["model_gap"]}
        text = (f"At n={n0}, HOG + logistic regression {m[f'acc_hog_n{n0}']:.1%} vs CNN {m[f'acc_cnn_n{n0}']:.1%}; "
                f"at n={n1}, {m[f'acc_hog_n{n1}']:.1%} vs {m[f'acc_cnn_n{n1}']:.1%}; "
                + (f"the CNN catches up from n={cross:.0f}" if cross is not None else "the CNN never catches up in the grid")
                + f"; missing data: mean + indicators beats zero-fill by {m['handling_gap']:+.1%} "
                  f"while tree vs MLP differ by {m['model_gap']:.1%}")
        failed = [name for name, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if "small-n" in failed else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")


def _spread(values: np.ndarray, description: str) -> Metric:
    return Metric.over_seeds(values, "fraction", description)
