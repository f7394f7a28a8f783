"""1-D test functions: straightness by hand, the outside-fit measures on exact lines, tangents, the data."""
import numpy as np
import pytest

from limitlab.data.functions import FUNCTIONS, fit_panel, function_data, outside_fit, straightness, tangents


def test_straightness_by_hand():
    x = np.array([-1.0, 0.0, 1.0])
    assert straightness(x, 3 * x + 2) == pytest.approx((1.0, 3.0))
    # y = x^2 on {-1, 0, 1}: best line is flat at 2/3; residuals (1/3, -2/3, 1/3) equal the deviations -> R^2 = 0
    assert straightness(x, x ** 2) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert straightness(x, np.full(3, 5.0)) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_a_flat_line_is_judged_against_the_floor_of_its_variance():
    # Issue 12's seed 1: a fit flat far out (slope 0.002) with a bend of 7e-4 scored R^2 = 0.757 (0/0 at the limit).
    # By hand on x = (3, 4.5, 6), y = (0.0015, 0, 0.0015): the best line is flat at 0.001, SS_res = SS_tot = 1.5e-6.
    x, y = np.array([3.0, 4.5, 6.0]), np.array([0.0015, 0.0, 0.0015])
    assert straightness(x, y) == pytest.approx((0.0, 0.0), abs=1e-9)  # R^2 alone: "not a line at all"
    assert straightness(x, y, min_var=0.01) == pytest.approx((1 - 1.5e-6 / 0.03, 0.0), abs=1e-9)  # 0.99995
    assert straightness(x, 3 * x + 2, min_var=100.0)[0] == pytest.approx(1.0)  # an exact line stays exact
    assert straightness(x, y, min_var=1e-8)[0] == pytest.approx(0.0, abs=1e-9)  # a floor below SS_tot / n: plain R^2


def test_outside_fit_floors_at_the_fits_variance_inside():
    # x^2 on [-1, 1] (variance 4/45 on a fine grid), then flat: a tiny hinge (slope 5e-4 from |x| = 4.5) is a line at
    # that scale; a hinge of slope 1 at the middle of [3, 6] is not: R^2 = 4/5 in the continuum (slope 1/2 explains
    # 1/12 of relu's variance 5/48 on a symmetric interval), above the floor, so the floor does not soften it.
    x = np.linspace(-6, 6, 12001)
    bend = np.maximum(np.abs(x) - 4.5, 0.0)
    flat = np.where(np.abs(x) <= 1, x ** 2, 1 + 5e-4 * bend)
    assert min(outside_fit(x, flat, "square", far=3)[k] for k in ("r2_left", "r2_right")) > 0.9999
    assert straightness(x[x >= 3], flat[x >= 3])[0] == pytest.approx(0.8, abs=2e-3)  # unfloored: scale-free, "bent"
    hinge = outside_fit(x, np.where(np.abs(x) <= 1, x ** 2, 1 + bend), "square", far=3)
    assert hinge["r2_left"] == pytest.approx(0.8, abs=2e-3) and hinge["r2_right"] == pytest.approx(0.8, abs=2e-3)


def test_the_tangent_extrapolation_of_x_squared_is_measured_exactly():
    # A "fit" that is x^2 inside and its tangents outside: exact inside, lines of slope -+2 outside.
    x = np.linspace(-3, 3, 601)
    fx = np.where(np.abs(x) <= 1, x ** 2, tangents(x, "square"))
    e = outside_fit(x, fx, "square")
    assert e["rmse_in"] == 0.0 and e["r2_left"] == pytest.approx(1.0) and e["r2_right"] == pytest.approx(1.0)
    assert e["slope_left"] == pytest.approx(-2.0) and e["slope_right"] == pytest.approx(2.0)
    assert (e["df_left"], e["df_right"]) == (-2.0, 2.0)
    out = np.abs(x) > 1
    assert e["rmse_out"] == pytest.approx(np.sqrt(np.mean((np.abs(x[out]) - 1) ** 4)))  # x^2 - (2|x| - 1) = (|x| - 1)^2
    assert np.isnan(tangents(np.array([0.5]), "square")).all()


def test_function_data_has_one_column_per_function():
    data = function_data(("sin", "abs"), num_points=5)
    np.testing.assert_allclose(data.x[:, 0].numpy(), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(data.y.numpy(), np.stack([FUNCTIONS["sin"][0](data.x[:, 0].numpy()),
                                                         np.abs(data.x[:, 0].numpy())], 1), atol=1e-6)


def test_fit_panel_draws_the_function_its_fit_and_the_tangents():
    x = np.linspace(-3, 3, 7)
    panel = fit_panel(x, np.zeros(7), "abs")
    assert [s["label"] for s in panel["series"]] == ["true function", "ReLU MLP fit", "tangent at ±1"]
    assert panel["series"][0]["y"] == [3, 2, 1, 0, 1, 2, 3] and panel["vspans"][0]["x0"] == -1
