"""Parameter errors, the parameter table and the tracking time, by hand."""
import numpy as np
import pytest

from limitlab.data.dynamics import Oscillators
from limitlab.data.oscillator_scores import (
    named_params,
    param_errors,
    param_rows,
    param_table,
    tracking_error,
    tracking_time,
)


def test_param_errors_by_hand():
    true = Oscillators(np.array([1.0, 2.0]), np.array([0.5]), damping=0.1)
    fitted = Oscillators(np.array([1.1, 2.0]), np.array([0.45]), damping=0.15)
    worst, damping = param_errors(true, fitted)
    assert worst == pytest.approx(0.21)  # omega_1^2: 1.21 vs 1 (the spring is 10% off)
    assert damping == pytest.approx(0.05)


def test_rows_name_every_parameter_and_mark_what_a_smaller_model_lacks():
    true = Oscillators(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.6]), damping=0.1)
    reduced = Oscillators(np.array([1.0, 2.5]), np.array([0.4]), damping=0.2)
    assert list(named_params(true)) == ["omega_1", "omega_2", "omega_3", "spring_1-2", "spring_2-3", "damping"]
    rows = {r[0]: r[1:] for r in param_rows(true, true, reduced)}
    assert rows["omega_3"] == [3.0, 3.0, "—"] and rows["spring_1-2"] == [0.5, 0.5, 0.4]
    assert rows["damping"] == [0.1, 0.1, 0.2]


def test_tracking_time_by_hand():
    t = np.arange(0.0, 5.01, 1.0)  # 0, 1, ..., 5
    truth = np.ones((6, 2))  # ||truth|| = sqrt(2) everywhere: the RMS after t = 1 is sqrt(2)
    pred = truth.copy()
    pred[4] += 0.9  # error at t = 4: 0.9 sqrt(2) / sqrt(2) = 0.9 > 0.5
    assert tracking_time(t, pred, truth, start=1.0) == 3.0  # off at t = 4, three time units after the start
    assert tracking_time(t, truth, truth, start=1.0) == 4.0  # never off: the whole span after the start
    pred[2] = np.nan
    assert tracking_time(t, pred, truth, start=1.0) == 1.0  # a NaN prediction is off
    times, error = tracking_error(t, truth + 0.1, truth, start=2.5)
    np.testing.assert_allclose(times, [3, 4, 5])
    np.testing.assert_allclose(error, 0.1)


def test_param_table_rows():
    true = Oscillators(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.6]), damping=0.1)
    reduced = Oscillators(np.array([1.0, 2.5]), np.array([0.4]), damping=0.2)
    table = param_table(true, true, reduced)
    assert table.columns[-1] == "fit with 2 of 3 oscillators" and len(table.rows) == 6
