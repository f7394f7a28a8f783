"""Vector scaling against a reference fit (scipy.optimize on the NLL, written here), and on known parameters."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import minimize
from scipy.special import logsumexp

from limitlab.calibration import VectorScaler
from limitlab.errors import DataError, NotFittedError


def sample(num, w, b, seed):
    """Labels drawn from softmax(w * z + b): the calibrating scales and biases are w and b."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(num, len(w), generator=gen, dtype=torch.float64) * 3
    p = torch.softmax(z * torch.tensor(w) + torch.tensor(b), 1)
    return z, torch.multinomial(p, 1, generator=gen).squeeze(1)


def reference_fit(z, y):
    """NLL(w, b) = mean(logsumexp(w z + b) - (w z + b)_y), minimized by BFGS with its analytic gradient."""
    z, y = z.numpy(), y.numpy()
    c = z.shape[1]
    onehot = np.eye(c)[y]

    def nll(theta):
        a = z * theta[:c] + theta[c:]
        p = np.exp(a - logsumexp(a, axis=1, keepdims=True))
        value = np.mean(logsumexp(a, axis=1) - (a * onehot).sum(1))
        g = (p - onehot) / len(z)
        return value, np.concatenate([(g * z).sum(0), g.sum(0)])

    theta = minimize(nll, np.concatenate([np.ones(c), np.zeros(c)]), jac=True, method="BFGS",
                     options={"gtol": 1e-10}).x
    return theta[:c], theta[c:], nll(theta)[0]


def test_matches_a_reference_fit_of_the_nll():
    z, y = sample(600, [0.5, 1.5, 1.0, 0.8], [0.3, -0.2, 0.0, 0.4], seed=0)
    scaler = VectorScaler().fit(z, y)
    w, b, loss = reference_fit(z, y)
    assert scaler.scale_.numpy() == pytest.approx(w, abs=1e-4)
    # softmax ignores a constant added to every bias: compare the centred ones (both stay centred from b = 0)
    assert (scaler.bias_ - scaler.bias_.mean()).numpy() == pytest.approx(b - b.mean(), abs=1e-4)
    assert float(F.cross_entropy(scaler.transform(z), y)) == pytest.approx(loss, abs=1e-9)


def test_recovers_the_scales_and_biases_that_generated_the_labels():
    w, b = [0.5, 2.0, 1.0], [0.5, -0.5, 0.0]
    z, y = sample(30000, w, b, seed=1)
    scaler = VectorScaler().fit(z, y)
    assert scaler.scale_.numpy() == pytest.approx(w, abs=0.08)
    assert (scaler.bias_ - scaler.bias_.mean()).numpy() == pytest.approx(np.array(b) - np.mean(b), abs=0.08)


def test_it_can_change_the_argmax_and_never_raises_the_fitted_nll():
    z, y = sample(2000, [0.3, 1.0, 3.0], [1.0, 0.0, -1.0], seed=2)
    scaler = VectorScaler().fit(z, y)
    assert not torch.equal(scaler.transform(z).argmax(1), z.argmax(1))
    assert F.cross_entropy(scaler.transform(z), y) <= F.cross_entropy(z, y) + 1e-12
    assert torch.allclose(scaler.predict_proba(z).sum(1), torch.ones(len(z), dtype=torch.float64))


def test_bad_use_is_one_line():
    with pytest.raises(NotFittedError, match="fit"):
        VectorScaler().transform(torch.zeros(1, 2))
    scaler = VectorScaler().fit(*sample(50, [1.0, 1.0], [0.0, 0.0], seed=3))
    with pytest.raises(DataError, match="logits have 3 classes; expected 2"):
        scaler.transform(torch.zeros(1, 3))
