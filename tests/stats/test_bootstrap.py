"""Resampling weights and percentile intervals."""
import numpy as np
import pytest

from limitlab.stats.bootstrap import percentile_interval, resample_weights


def test_each_resample_draws_n_inputs_and_means_match_index_resampling():
    rng = np.random.default_rng(0)
    w = resample_weights(50, num=400, rng=rng)
    assert w.shape == (400, 50) and np.all(w.sum(1) == 50) and np.all(w >= 0)
    v = np.random.default_rng(1).normal(size=50)
    means = w @ v / 50
    assert means.mean() == pytest.approx(v.mean(), abs=0.02)  # the bootstrap distribution is centred on the mean
    assert means.std() == pytest.approx(v.std() / np.sqrt(50), rel=0.15)  # and its spread is the standard error


def test_percentile_interval():
    samples = np.arange(1, 1001, dtype=float)
    assert percentile_interval(samples, level=0.9) == pytest.approx(np.percentile(samples, [5, 95]))
    assert percentile_interval(np.r_[np.full(60, np.nan), np.ones(40)]) is None  # undefined on most resamples
