"""Models for a small numeric table, with or without missing values (NaN).

`tabular_mlp_accuracy`: standardize on the training rows only (no peeking at the test rows), then the
zoo's `mlp` with one hidden layer, full-batch Adam through `models.fit` (cached), its initial weights
drawn from the named stream `names`. `missing_strategy_accuracy`: three ways to learn from a table with
NaNs (Little, Rubin. Statistical analysis with missing data, 2019): the MLP on zero-filled values, the
MLP on mean-imputed values plus missing-indicator features, and a gradient-boosted tree that routes NaNs
natively (scikit-learn's HistGradientBoostingClassifier).
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import StandardScaler

from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.data.impute import mean_with_indicators, zero_fill
from limitlab.data.tabular import MECHANISMS, inject_missing, tabular
from limitlab.errors import ConfigError
from limitlab.models.train import TrainConfig, evaluate, fit
from limitlab.models.zoo import build

STRATEGIES = ("mlp-zero-fill", "mlp-mean+indicators", "tree-native-nan")


def tabular_mlp_accuracy(x: np.ndarray, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray, *,
                         ctx: Context, names: tuple[object, ...], epochs: int, hidden: int = 64,
                         lr: float = 3e-3) -> float:
    """Test accuracy on `test_rows` of the MLP trained on `train_rows` of (x, y) (x: N x D, no NaN)."""
    scaler = StandardScaler().fit(x[train_rows])
    z_tr, z_te = (torch.tensor(scaler.transform(x[rows]), dtype=torch.float32) for rows in (train_rows, test_rows))
    bounds = (float(min(z_tr.min(), z_te.min())), float(max(z_tr.max(), z_te.max())))
    train = ArrayDataset(z_tr, torch.from_numpy(y[train_rows]), "tabular-train", 2, bounds)
    with ctx.seeded_torch("init", "tabular-mlp", *names):
        model = build("mlp", in_shape=(x.shape[1],), num_classes=int(y[train_rows].max()) + 1, hidden=(hidden,))
    fit(model, train, ctx=ctx, description="tabular mlp",
        config=TrainConfig(epochs=epochs, batch_size=len(train), lr=lr, patience=None, eval_train=False))
    return evaluate(model, ArrayDataset(z_te, torch.from_numpy(y[test_rows]), "tabular-test", 2, bounds))[1]


def missing_strategy_accuracy(strategy: str, x: np.ndarray, y: np.ndarray, train_rows: np.ndarray,
                              test_rows: np.ndarray, *, ctx: Context, names: tuple[object, ...], epochs: int) -> float:
    """Test accuracy of one of `STRATEGIES` on the table `x` with NaNs; `names` name its random streams."""
    if strategy == "mlp-zero-fill":
        return tabular_mlp_accuracy(zero_fill(x), y, train_rows, test_rows, ctx=ctx, names=names, epochs=epochs)
    if strategy == "mlp-mean+indicators":
        return tabular_mlp_accuracy(mean_with_indicators(x, train_rows), y, train_rows, test_rows, ctx=ctx, names=names,
                                    epochs=epochs)
    if strategy != "tree-native-nan":
        raise ConfigError(f"unknown missing-data strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")
    tree = HistGradientBoostingClassifier(random_state=ctx.derive_seed("tree", *names))
    return float(tree.fit(x[train_rows], y[train_rows]).score(x[test_rows], y[test_rows]))


def missing_data_scores(name: str, *, ctx: Context, num_seeds: int, num_train: int, rate: float,
                        epochs: int) -> dict[str, np.ndarray]:
    """Test accuracy per seed of every strategy on the bundled table `name` with a fraction `rate` of each column
    missing, for each mechanism: "mechanism/strategy" -> array over seeds, plus "complete" (the MLP on the complete
    table). Each seed draws its own `num_train` training rows (the rest test) and its own missing values."""
    x, y, _ = tabular(name)
    out: dict[str, np.ndarray] = {}
    for k in range(num_seeds):
        perm = ctx.rng("missing-split", k).permutation(len(y))
        tr, te = perm[:num_train], perm[num_train:]
        scores = {"complete": tabular_mlp_accuracy(x, y, tr, te, ctx=ctx, names=("complete", k), epochs=epochs)}
        for mech in MECHANISMS:
            xm = inject_missing(x, rate=rate, mechanism=mech, rng=ctx.rng("missing", mech, k))
            streams = {"mlp-zero-fill": (mech, "zero", k), "mlp-mean+indicators": (mech, "mean", k),
                       "tree-native-nan": (mech, k)}
            for strategy, names in streams.items():
                scores[f"{mech}/{strategy}"] = missing_strategy_accuracy(strategy, xm, y, tr, te, ctx=ctx, names=names,
                                                                         epochs=epochs)
        for key, value in scores.items():
            out.setdefault(key, np.zeros(num_seeds))[k] = value
    return out
