"""Clopper-Pearson intervals against scipy's exact binomial test, and at the ends."""
import pytest
import torch
from scipy.stats import binomtest

from limitlab.errors import ConfigError, DataError
from limitlab.stats.binomial import clopper_pearson, proportion


@pytest.mark.parametrize("k, n", [(0, 10), (1, 10), (5, 10), (10, 10), (37, 360), (345, 360)])
def test_interval_is_scipys_exact_one(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.9, method="exact")
    assert clopper_pearson(k, n, level=0.9) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_ends_and_hand_worked_value():
    assert clopper_pearson(0, 10)[0] == 0.0 and clopper_pearson(10, 10)[1] == 1.0
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** (1 / 10))  # solves (1 - p)^10 = 0.025


def test_proportion_of_flags():
    value, (lo, hi) = proportion(torch.tensor([True, False, True, True]))
    assert value == 0.75 and lo < 0.75 < hi


def test_bad_input_is_one_line():
    with pytest.raises(DataError, match="0 <= k <= n"):
        clopper_pearson(11, 10)
    with pytest.raises(ConfigError, match="level"):
        clopper_pearson(1, 10, level=1.5)
