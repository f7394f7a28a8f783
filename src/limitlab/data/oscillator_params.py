"""Fitted oscillator parameters against the true ones (`limitlab.data.dynamics.Oscillators`).

How well a physics model fitted on a window recovers the system: the relative errors of the frequencies
and springs, the absolute error of the damping (which can be near zero), and a named table of each.
"""
from __future__ import annotations

import numpy as np

from limitlab.data.dynamics import Oscillators


def named_params(system: Oscillators) -> dict[str, float]:
    """{"omega_1": .., "spring_1-2": .., "damping": ..}: frequencies (rad/time), springs, damping."""
    n = system.num_oscillators
    names = [*(f"omega_{i}" for i in range(1, n + 1)), *(f"spring_{i}-{i + 1}" for i in range(1, n)), "damping"]
    return dict(zip(names, map(float, [*system.omega, *system.springs, system.damping])))


def param_errors(true: Oscillators, fitted: Oscillators) -> tuple[float, float]:
    """(largest relative error of the fitted omega^2 and springs, absolute error of the fitted damping)."""
    p_true, p_fit, n = true.params(), fitted.params(), true.num_oscillators
    return float(np.delete(np.abs(p_fit - p_true) / np.abs(p_true), n).max()), float(abs(p_fit[n] - p_true[n]))


def param_rows(true: Oscillators, *fitted: Oscillators) -> list[list]:
    """One row per parameter of `true`: its name, true value and each fitted value ("—" where a model has none)."""
    fits = [named_params(f) for f in fitted]
    return [[name, value, *(f.get(name, "—") for f in fits)] for name, value in named_params(true).items()]
