"""The backprop study's pieces against hand-worked values and independent routes."""
import numpy as np
import pytest

from limitlab.autodiff import MLP
from limitlab.context import Context
from limitlab.studies.backprop import (Backprop, backprop_gradient, finite_differences, relative_error, slope,
                                       torch_gradient)


def test_three_gradient_routes_agree():
    rng = np.random.default_rng(0)
    net = MLP((5, 6, 3), act="tanh", rng=rng)
    x, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    ours = backprop_gradient(net, x, y)
    assert relative_error(ours, torch_gradient(net, x, y)) < 1e-12
    assert relative_error(ours, finite_differences(net, x, y, 1e-6)) < 1e-7
    before = [p.data.copy() for p in net.parameters()]
    finite_differences(net, x, y, 1e-3)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, net.parameters()))  # parameters restored


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


def base_metrics(**changes):
    m = {"reciprocal_rel_error": 1e-16, "torch_rel_error": 1e-16, "fd_rel_error": 1e-9, "bwd_fwd_ratio_max": 2.0,
         "fd_bp_ratio_largest": 1000.0, "fd_ops_slope": 1.9, "bp_ops_slope": 1.0, "largest_params": 3332,
         "engine_test_acc": 0.95}
    return {**m, **changes}


def test_verdict_rule():
    study = Backprop()
    assert study.judge(base_metrics()).status == "holds"
    assert study.judge(base_metrics(bwd_fwd_ratio_max=6.0)).status == "fails"
    assert study.judge(base_metrics(torch_rel_error=1e-6)).status == "fails"
    assert study.judge(base_metrics(engine_test_acc=0.5)).status == "inconclusive"
    assert study.judge(base_metrics(fd_ops_slope=0.5)).status == "inconclusive"
