"""Classifiers for learning curves on little data, each returning which test examples it gets right.

The zoo CNN trained end to end (Adam, a fixed number of epochs but at least `min_steps` optimizer steps, so a
tiny training set still gets enough updates; no early stopping: there is no data to spare for validation)
and scikit-learn's logistic regression on standardized features (HOG descriptors or raw pixels). Per-example
correctness, not only accuracy, so two methods can be compared on the same test examples (a paired gap).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.data.subsets import digits_pool, pool_hog
from limitlab.models.train import TrainConfig, correct, fit
from limitlab.models.zoo import build


def cnn_hits(train: ArrayDataset, test: ArrayDataset, *, ctx: Context, names: tuple[object, ...], epochs: int,
             min_steps: int, lr: float) -> np.ndarray:
    """1.0 per test example the CNN trained on `train` classifies correctly, else 0.0; the initial weights come
    from the stream ("init", "cnn", *names)."""
    n, batch = len(train), min(64, len(train))
    epochs = max(epochs, -(-min_steps // -(-n // batch)))  # at least min_steps steps
    with ctx.seeded_torch("init", "cnn", *names):
        model = build("cnn")
    fit(model, train, ctx=ctx, description=f"cnn n={n}",
        config=TrainConfig(epochs=epochs, batch_size=batch, lr=lr, patience=None, eval_train=False))
    return correct(model, test.x, test.y).numpy()


def logreg_hits(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray, *,
                c: float = 1.0) -> np.ndarray:
    """1.0 per test row that logistic regression (inverse regularization `c`) on standardized features gets right."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    return (clf.fit(f_train, y_train).predict(f_test) == y_test).astype(np.float64)


def curve_hits(orders: np.ndarray, sizes: Sequence[int], *, small_n: int, num_full: int, ctx: Context, epochs: int,
               min_steps: int, lr: float, c: float = 1.0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Learning curves on the digits: draw k trains the CNN ("cnn"), HOG + logistic regression ("hog") and pixels +
    logistic regression ("pixels") on the first n digits of orders[k] (an order of `digits_pool`'s 1,437), for every n
    in `sizes` in the first `num_full` draws, for n <= small_n in the others (the pixels: first `num_full` only).
    Returns (method -> 1 where right, draws x sizes x digits: the 360 test digits, then the pool's; NaN where not run,
    held: draws x digits, True where the draw trained on the digit at no size <= small_n)."""
    (pool, test), draws = digits_pool(), range(len(orders))
    every = ArrayDataset(torch.cat([test.x, pool.x]), torch.cat([test.y, pool.y]), "digits-test+pool", 10)
    hog, flat, y, n_test = pool_hog(tuple(range(len(pool)))), every.x.flatten(1).numpy(), every.y.numpy(), len(test)
    feats = {"hog": np.concatenate([hog[len(pool):], hog[:len(pool)]]), "pixels": flat}  # pool_hog: the pool first
    hits = {m: np.full((len(orders), len(sizes), len(every)), np.nan) for m in ("cnn", "hog", "pixels")}
    held = np.ones((len(orders), len(every)), dtype=bool)
    held[np.array(draws)[:, None], n_test + orders[:, :small_n]] = False
    jobs = [(k, j) for k in draws for j, n in enumerate(sizes) if k < num_full or n <= small_n]
    for k, j in ctx.progress.track(jobs, description="learning curves"):
        idx = orders[k, :sizes[j]]
        hits["cnn"][k, j] = cnn_hits(pool.subset(np.sort(idx)), every, ctx=ctx, names=(k, len(idx)), epochs=epochs,
                                     min_steps=min_steps, lr=lr)
        for m in ("hog", "pixels")[:2 if k < num_full else 1]:  # the pixels: a reference line of the curves only
            hits[m][k, j] = logreg_hits(feats[m][n_test + idx], y[n_test + idx], feats[m], y, c=c)
    return hits, held
