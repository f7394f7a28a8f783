"""The backprop study's pieces against hand-worked values and independent routes."""
import numpy as np
import pytest

from limitlab.autodiff.gradcheck import relative_error
from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.backprop import Backprop, BackpropConfig, slope


def test_helpers_by_hand():
    assert relative_error([np.array([1.0, 2.0])], [np.array([1.0, 4.0])]) == pytest.approx(0.5)
    assert slope([1, 10, 100], [3, 30, 300]) == pytest.approx(1.0)
    assert slope([1, 10, 100], [5, 500, 50000]) == pytest.approx(2.0)


def test_cost_curve_counts_two_forward_passes_per_parameter():
    study = Backprop.configure(overrides={"widths": "1,3", "num_repeats": 1})
    cost = study.cost_curve(Context())
    assert cost["params"] == [13 * 1 + 4, 13 * 3 + 4]
    for p, fwd, fd in zip(cost["params"], cost["fwd"], cost["fd"]):
        assert fd == 2 * p * fwd
    # forward of width 1, batch 16: matmuls 2*16*8*1 + 2*16*1*4, adds 16 + 64, tanh 16, cross-entropy 5*64
    assert cost["fwd"][0] == 256 + 128 + 16 + 64 + 16 + 320


def test_config_is_checked():
    with pytest.raises(ConfigError, match=r"widths=\[1\]; expected at least 2"):
        BackpropConfig(widths=(1,))
    with pytest.raises(ConfigError, match="momentum=1.0; expected"):
        Backprop.configure(overrides={"momentum": "1"})
    with pytest.raises(ConfigError, match="check_batch=5000"):
        BackpropConfig(check_batch=5000)


def values(metrics):
    return MetricValues({name: Metric(v) for name, v in metrics.items()})


def base_metrics(**changes):
    m = {"reciprocal_rel_error": 1e-16, "torch_rel_error": 1e-16, "fd_rel_error": 1e-9, "bwd_fwd_ratio_max": 2.0,
         "fd_bp_ratio_largest": 1000.0, "fd_ops_slope": 1.9, "bp_ops_slope": 1.0, "largest_params": 3332,
         "engine_test_acc": 0.95}
    return {**m, **changes}


def test_verdict_rule():
    study = Backprop()
    judge = lambda **changes: study.judge(values(base_metrics(**changes)))  # noqa: E731
    assert judge().status == "holds"
    assert judge(bwd_fwd_ratio_max=6.0).status == "fails"
    assert judge(torch_rel_error=1e-6).status == "fails"
    assert judge(engine_test_acc=0.5).status == "inconclusive"
    assert judge(fd_ops_slope=0.5).status == "inconclusive"
    # Not measured: never holds, and a missing error is no evidence of a wrong gradient.
    assert judge(fd_rel_error=None).status == "inconclusive"
    assert study.judge(MetricValues({})).status == "inconclusive"
