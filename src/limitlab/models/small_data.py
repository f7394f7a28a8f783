"""Classifiers for learning curves on little data, each returning which test examples it gets right.

The zoo CNN trained end to end (Adam, a fixed number of epochs but at least `min_steps` optimizer steps, so a
tiny training set still gets enough updates; no early stopping: there is no data to spare for validation)
and scikit-learn's logistic regression on standardized features (HOG descriptors or raw pixels). Per-example
correctness, not only accuracy, so two methods can be compared on the same test examples (a paired gap).
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.models.train import TrainConfig, fit, predict_logits
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
    return (predict_logits(model, test.x).argmax(1) == test.y).double().numpy()


def logreg_hits(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray, *,
                c: float = 1.0) -> np.ndarray:
    """1.0 per test row that logistic regression (inverse regularization `c`) on standardized features gets right."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    return (clf.fit(f_train, y_train).predict(f_test) == y_test).astype(np.float64)
