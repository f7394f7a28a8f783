"""The ECE noise floor (given top-label confidences) against its closed form for one bin; the reliability series."""
import math

import numpy as np
import pytest
import torch

from limitlab import calibration as cal
from limitlab.calibration.noise_floor import ece_noise_floor
from limitlab.calibration.series import reliability_series


def test_one_bin_floor_is_the_mean_absolute_deviation_of_a_binomial_share():
    n, c = 40, 0.9  # every input in one bin: ECE = |k/n - c| with k ~ Binomial(n, c)
    exact = sum(math.comb(n, k) * c**k * (1 - c) ** (n - k) * abs(k / n - c) for k in range(n + 1))
    got = float(ece_noise_floor(torch.full((n,), c), num=4000, generator=torch.Generator().manual_seed(0)).mean())
    assert got == pytest.approx(exact, rel=0.05)


def test_floor_shrinks_with_more_inputs():
    conf = torch.from_numpy(np.random.default_rng(1).uniform(0.5, 1.0, 2000))
    small = float(ece_noise_floor(conf[:100], generator=torch.Generator().manual_seed(0)).mean())
    large = float(ece_noise_floor(conf, generator=torch.Generator().manual_seed(0)).mean())
    assert large < small / 2


def test_reliability_series_is_the_reliability_of_the_non_empty_bins():
    probs = torch.softmax(torch.randn(200, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64), 1)
    y = torch.randint(0, 3, (200,), generator=torch.Generator().manual_seed(1))
    s = reliability_series(probs, y, bins=10, label="m")
    r = cal.reliability(probs, y, bins=10)
    keep = r.counts > 0
    assert s["y"] == pytest.approx(r.accuracy[keep].tolist()) and s["label"].startswith("m: ECE ")
