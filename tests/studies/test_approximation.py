"""The approximation study's pieces: the 1/2 floor for a jump, the band-slope bound, convergence, verdict."""
import numpy as np
import pytest

from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.approximation import Approximation, ApproximationConfig, fit_width

CFG = Approximation.configure(preset="tiny").config


def grid():
    near = np.logspace(-12, -3, 20)
    return np.concatenate([np.linspace(-1, 1, 2001), -near, near])


def test_step_sup_error_never_below_half_and_band_times_slope():
    for width in (1, 4, 16, 64):
        fit = fit_width("step", width, CFG, grid(), 2001)
        assert fit["sup"] >= 0.5 - 1e-6
        if fit["crosses"]:
            assert fit["band"] * fit["slope"] >= 0.8


def test_smooth_error_falls_with_width():
    sups = [fit_width("smooth", w, CFG, grid(), 2001)["sup"] for w in (4, 16, 64)]
    assert sups[0] > sups[1] > sups[2] and sups[2] < 0.01


def test_config_is_checked():
    with pytest.raises(ConfigError, match="num_train=100; expected > the largest width"):
        ApproximationConfig(widths=(1, 512), num_train=100)
    with pytest.raises(ConfigError, match="num_pairs=11; expected"):
        Approximation.configure(overrides={"num_pairs": "11"})


def metrics(**changes):
    m = {"smooth_sup_first": 1.0, "smooth_sup_last": 0.001, "step_sup_min": 0.5, "step_l2_first": 0.3,
         "step_l2_last": 0.02, "step_slope_last": 200.0, "step_band_last": 0.005, "band_times_slope_min": 0.9,
         "path_min_top_prob_max": 0.5}
    return MetricValues({k: Metric(v) for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Approximation()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(step_sup_min=0.3)).status == "fails"
    assert study.judge(metrics(smooth_sup_last=0.2)).status == "fails"
    assert study.judge(metrics(path_min_top_prob_max=0.95)).status == "inconclusive"
    assert study.judge(metrics(band_times_slope_min=None)).status == "holds"  # no fit crossed the band
    assert study.judge(metrics(smooth_sup_first=None)).status == "inconclusive"  # not measured: never holds
    assert study.judge(MetricValues({})).status == "inconclusive"
