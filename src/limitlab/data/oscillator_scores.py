"""How well a model of coupled oscillators (`limitlab.data.dynamics`) does: its fitted parameters against the
true ones, and how long its forecast keeps track of the true angles.

Parameters: the relative errors of the frequencies and springs, the absolute error of the damping (which can be
near zero), and a named table of each. Tracking: the valid prediction time of forecasting studies (e.g. Pathak
et al., Model-free prediction of large spatiotemporally chaotic systems, PRL 2018; Vlachas et al. 2020): the
time until the forecast's error first exceeds a set fraction of the signal's size.
"""
from __future__ import annotations

import numpy as np

from limitlab.data.dynamics import Oscillators
from limitlab.result import Table


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


def tracking_error(t: np.ndarray, pred: np.ndarray, truth: np.ndarray, *, start: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(times after `start`, ||pred(t) - truth(t)|| / RMS) for t > start, RMS being that of ||truth(t)|| there;
    NaN predictions give NaN errors. pred and truth: (T, N) at times t (T,)."""
    after = t > start
    scale = float(np.sqrt(np.mean(np.sum(np.square(truth[after]), axis=1))))
    return t[after], np.linalg.norm(pred[after] - truth[after], axis=1) / scale


def tracking_time(t: np.ndarray, pred: np.ndarray, truth: np.ndarray, *, start: float, threshold: float = 0.5
                  ) -> float:
    """How long after `start` the forecast `pred` keeps track of `truth`: the time until its `tracking_error`
    first exceeds `threshold` (a NaN counts as off; the whole span after `start` if it never is)."""
    times, error = tracking_error(t, pred, truth, start=start)
    off = np.flatnonzero(~(error <= threshold))
    return float((times[off[0]] if len(off) else times[-1]) - start)


def param_table(true: Oscillators, physics: Oscillators, reduced: Oscillators) -> Table:
    """True vs fitted parameters, one row each (the reduced model's missing ones shown as "—")."""
    return Table("Physical parameters: true vs fitted on the training window",
                 ["parameter", "true", "physics fit", f"fit with {reduced.num_oscillators} of {true.num_oscillators} "
                  "oscillators"], param_rows(true, physics, reduced),
                 caption="Frequencies in rad/time, springs in 1/time², damping in 1/time. The reduced model's last "
                         "frequency absorbs the spring to the oscillators it leaves out.")
