"""ECE's bootstrap standard error against the binomial closed form of a one-bin predictor."""
import math

import pytest
import torch

from limitlab.calibration.bootstrap import ece_bootstrap_se
from limitlab.errors import ConfigError


def test_zero_when_every_resample_is_the_same():
    probs = torch.tensor([[0.7, 0.3]] * 50, dtype=torch.float64)
    y = torch.zeros(50, dtype=torch.long)  # every prediction right at confidence 0.7: ECE = 0.3 always
    se = ece_bootstrap_se(probs, y, bins=15, num=20, generator=torch.Generator().manual_seed(0))
    assert se == pytest.approx(0, abs=1e-6)


def test_one_bin_predictor_matches_the_binomial_standard_error():
    # Confidence 0.9 on class 0 everywhere, 70% of labels 0: ECE = |acc - 0.9|, and acc stays far below 0.9 in
    # every resample, so ECE's spread is the accuracy's: sqrt(p (1 - p) / n).
    n = 200
    probs = torch.tensor([[0.9, 0.1]] * n, dtype=torch.float64)
    y = (torch.arange(n) >= int(0.7 * n)).long()
    se = ece_bootstrap_se(probs, y, bins=15, num=300, generator=torch.Generator().manual_seed(0))
    assert se == pytest.approx(math.sqrt(0.7 * 0.3 / n), rel=0.15)


def test_needs_two_resamples():
    with pytest.raises(ConfigError, match="num=1"):
        ece_bootstrap_se(torch.tensor([[1.0, 0.0]]), torch.tensor([0]), num=1)
