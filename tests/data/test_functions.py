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
