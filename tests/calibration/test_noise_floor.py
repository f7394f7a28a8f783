"""Calibration noise floors: ECE of a calibrated predictor against the binomial closed form; the bootstrap T."""
import math

import pytest
import torch

from limitlab import calibration as cal
from limitlab.calibration.noise_floor import ece_noise_floor, temperature_bootstrap


def test_one_confidence_matches_the_binomial_expectation():
    # Every input at confidence c, one bin: ECE = |K/n - c| with K ~ Binomial(n, c).
    n, c = 60, 0.8
    probs = torch.tensor([[c, 1 - c]] * n, dtype=torch.float64)
    exact = sum(math.comb(n, k) * c ** k * (1 - c) ** (n - k) * abs(k / n - c) for k in range(n + 1))
    floor = ece_noise_floor(probs, num=20000, generator=torch.Generator().manual_seed(0))
    assert float(floor.mean()) == pytest.approx(exact, rel=0.03)


def test_each_draw_is_the_ece_of_labels_drawn_from_the_probabilities():
    # Brute force for one draw: rebuild the labels the floor used and compute ECE with the probe.
    gen = torch.Generator().manual_seed(1)
    probs = torch.softmax(3 * torch.randn(40, 4, generator=gen, dtype=torch.float64), 1)
    floor = ece_noise_floor(probs, num=1, generator=torch.Generator().manual_seed(2))
    conf, top = probs.max(1)
    right = torch.rand(1, 40, generator=torch.Generator().manual_seed(2), dtype=torch.float64)[0] < conf
    labels = torch.where(right, top, (top + 1) % 4)  # a wrong label where the draw says "wrong"
    assert float(floor[0]) == pytest.approx(cal.ece(probs, labels, bins=15), abs=1e-12)


def test_a_calibrated_predictor_on_360_points_scores_about_two_percent():
    # The number: a perfectly calibrated digits-like predictor (most confidences near 1) on 360 points.
    gen = torch.Generator().manual_seed(3)
    logits = 6 * torch.randn(360, 10, generator=gen, dtype=torch.float64)
    floor = ece_noise_floor(torch.softmax(logits, 1), num=2000, generator=gen)
    assert 0.005 < float(floor.mean()) < 0.05


def test_bootstrap_temperatures_center_on_the_fit_and_pair_the_sets():
    gen = torch.Generator().manual_seed(4)
    z = 2 * torch.randn(400, 5, generator=gen, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, 1), 1, generator=gen)[:, 0]
    t = temperature_bootstrap([3 * z, 6 * z], y, num=30, generator=gen)
    assert t.shape == (30, 2)
    assert float(t[:, 0].mean()) == pytest.approx(cal.TemperatureScaler().fit(3 * z, y).temperature_, rel=0.05)
    torch.testing.assert_close(t[:, 1], 2 * t[:, 0], rtol=1e-3, atol=1e-3)  # the same resamples: T scales with z
