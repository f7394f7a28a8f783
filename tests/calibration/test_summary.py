"""Calibration scores at once, and before/after a temperature fitted on a separate split."""
import pytest
import torch

from limitlab import calibration as cal
from limitlab.calibration.summary import before_after_temperature, calibration_scores, scaling_with_noise


def test_scores_are_the_single_probes():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(50, 4, generator=gen, dtype=torch.float64), 1)
    y = torch.randint(0, 4, (50,), generator=gen)
    s = calibration_scores(probs, y, bins=10)
    assert s == {"acc": cal.accuracy(probs, y), "ece": cal.ece(probs, y, bins=10), "mce": cal.mce(probs, y, bins=10),
                 "nll": cal.nll(probs, y), "brier": cal.brier(probs, y)}


def test_an_over_confident_model_gets_t_near_its_sharpening_and_keeps_its_accuracy():
    # Labels drawn from softmax(z); the model reports 3 z (three times too sharp): the fitted T is about 3,
    # accuracy is unchanged, and NLL and ECE fall.
    gen = torch.Generator().manual_seed(1)
    z = 2 * torch.randn(4000, 5, generator=gen, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, 1), 1, generator=gen)[:, 0]
    out = before_after_temperature(3 * z[:2000], y[:2000], 3 * z[2000:], y[2000:], bins=15)
    assert out["temperature"] == pytest.approx(3.0, rel=0.1)
    assert out["acc_ts"] == out["acc"]
    assert out["nll_ts"] < out["nll"] and out["ece_ts"] < out["ece"] / 2


def test_scaling_with_noise_adds_floors_consistent_with_the_scores():
    gen = torch.Generator().manual_seed(2)
    z = 2 * torch.randn(1200, 5, generator=gen, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, 1), 1, generator=gen)[:, 0]
    out = scaling_with_noise(3 * z[:600], y[:600], 3 * z[600:], y[600:], num_floor=300, generator=gen)
    assert out["nll_gain"] == pytest.approx(out["nll"] - out["nll_ts"], abs=1e-9)
    assert out["nll_gain"] > out["nll_gain_noise"] > 0  # three times too sharp: scaling clearly helps
    # After scaling the model is calibrated: its ECE sits within the calibrated predictor's spread.
    assert out["ece_ts"] <= out["ece_ts_floor95"] and out["ece_ts_floor"] < out["ece_ts_floor95"]
    assert out["ece"] > out["ece_floor"]  # before scaling it is not
