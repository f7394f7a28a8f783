"""Minibatch SGD on the engine learns what a linear boundary separates."""
import numpy as np

from limitlab.autodiff import MLP
from limitlab.autodiff.fit import fit_sgd


def test_engine_sgd_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(np.int64)  # one linear boundary
    net = MLP((2, 8, 2), act="tanh", rng=rng)
    history = fit_sgd(net, x, y, x, y, epochs=5, lr=0.1, momentum=0.9, batch_size=20, rng=np.random.default_rng(1))
    assert len(history["test_acc"]) == 5 and history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] >= 0.95
