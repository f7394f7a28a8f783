"""Training an engine MLP with minibatch SGD: the engine used as a deep-learning library (the `backprop` study).

Rumelhart, Hinton, Williams. Learning representations by back-propagating errors. Nature 1986.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from limitlab.autodiff.gradcheck import loss_of
from limitlab.autodiff.nn import MLP
from limitlab.autodiff.optim import SGD
from limitlab.autodiff.tensor import Tensor


def fit_sgd(net: MLP, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *, epochs: int,
            lr: float, momentum: float, batch_size: int, rng: np.random.Generator,
            track: Callable[[Iterable[int]], Iterator[int]] = iter) -> dict[str, list[float]]:
    """Train `net` in place; after every epoch the training loss and the test accuracy.
    `rng` draws each epoch's batch order; `track` wraps the epochs (a progress bar)."""
    opt = SGD(net.parameters(), lr=lr, momentum=momentum)
    history: dict[str, list[float]] = {"train_loss": [], "test_acc": []}
    for _ in track(range(epochs)):
        order = rng.permutation(len(y))
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            loss_of(net, x[idx], y[idx]).backward()
            opt.step()
        history["train_loss"].append(loss_of(net, x, y).item())
        history["test_acc"].append(float((net(Tensor(x_test, requires_grad=False)).data.argmax(1) == y_test).mean()))
    return history
