"""Parameter errors and the parameter table, by hand."""
import numpy as np
import pytest

from limitlab.data.dynamics import Oscillators
from limitlab.data.oscillator_params import named_params, param_errors, param_rows


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
