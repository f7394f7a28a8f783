"""The calibration section's remedies: vector scaling beside temperature scaling, against fits done here by scipy on
the same split, and the card that says which to apply."""
import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from torch import nn

from limitlab.audit import audit
from tests.audit import cases
from tests.audit.test_cases import held_out, temperature_by_scipy
from tests.calibration.test_vector_scaling import reference_fit


class Scaled(nn.Module):
    """The model's logits times `k`: k > 1 makes a model over-confident."""

    def __init__(self, model, k):
        super().__init__()
        self.model, self.k = model, k

    def forward(self, x):
        return self.model(x) * self.k


@pytest.fixture(scope="module")
def noisy_digits():
    """The digits test set with Gaussian noise: about a quarter of the predictions wrong, so calibration matters."""
    x, y = cases.digits_xy("test")
    return (x + 0.35 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1), y


def nll(z, y):
    return logsumexp(z, axis=1) - z[np.arange(len(y)), y]


def test_vector_scaling_is_reported_beside_temperature_scaling_as_a_reference_fit_gives_it(mlp, noisy_digits):
    x, y = noisy_digits
    model = Scaled(mlp, 3.0)
    r = audit(model, x, y, preset="tiny", sections="calibration", bounds=(0.0, 1.0))["calibration"]
    with torch.no_grad():
        z = model(x).double()
    fit, held = held_out(len(y))
    w, b, _ = reference_fit(z[fit], y[fit])
    zv = z[held].numpy() * w + b
    yh = y[held].numpy()
    t = temperature_by_scipy(z[fit], y[fit])
    assert r.metric("nll_vs") == pytest.approx(nll(zv, yh).mean(), abs=1e-5)
    assert r.metric("nll_vs_over_ts") == pytest.approx(nll(z[held].numpy() / t, yh).mean() - nll(zv, yh).mean(),
                                                       abs=1e-5)
    assert r.metric("nll_gain_vs") == pytest.approx(r.metric("nll") - r.metric("nll_vs"), abs=1e-12)
    acc_vs = float((zv.argmax(1) == yh).mean())
    assert r.metric("acc_vs") == acc_vs and r.metric("acc_change_vs") == pytest.approx(acc_vs - r.metric("acc"))
    probs = torch.softmax(torch.from_numpy(zv), 1)
    assert r.metric("ece_vs") == pytest.approx(cases.brute_force_ece(probs, y[held]), abs=1e-5)
    assert r.verdict == "holds" and "vector scaling: ECE" in r.evidence
    # the card: apply temperature scaling, with this run's numbers
    assert r.advice.startswith(f"Apply temperature scaling fitted on held-out data (divide the logits by T = "
                               f"{r.metric('temperature'):.2f})")
    assert f"{r.metric('nll'):.3f}" in r.advice and f"{r.metric('nll_ts'):.3f}" in r.advice
    assert "Vector scaling" in r.advice and len(r.figures[0].panels[0]["series"]) == 4  # before, T, vector, diagonal


def test_a_calibrated_verdict_has_no_card_and_an_undecided_one_says_what_would_decide(mlp, noisy_digits):
    x, y = cases.digits_xy("test")
    r = audit(Scaled(mlp, 4.0), x, y, preset="tiny", sections="calibration", bounds=(0.0, 1.0))["calibration"]
    assert r.verdict == "fails" and r.advice == ""
    r = audit(mlp, *noisy_digits, preset="tiny", sections="calibration", bounds=(0.0, 1.0))["calibration"]
    assert r.verdict == "inconclusive" and r.advice.startswith("Undecided on 180 held-out inputs")
