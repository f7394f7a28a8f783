"""The oscillator simulator against closed forms, and the physics fit against known parameters."""
import numpy as np
import pytest

from limitlab.data.dynamics import (
    Oscillators,
    acceleration,
    fit_system,
    random_system,
    regress_params,
    simulate,
    state_at_end,
    synced_run,
    trajectory,
)
from limitlab.errors import ConfigError, DataError


def test_two_identical_coupled_oscillators_follow_their_normal_modes():
    # q1'' = -w^2 q1 - k (q1 - q2), q2'' likewise: the sum oscillates at w, the difference at sqrt(w^2 + 2k).
    w, k = 1.3, 0.4
    system = Oscillators(np.array([w, w]), np.array([k]), damping=0.0, pendulum=False)
    t = np.linspace(0, 25, 501)
    q = simulate(system, np.array([1.0, 0.0]), np.zeros(2), t)
    fast = np.sqrt(w ** 2 + 2 * k)
    expected = np.stack([(np.cos(w * t) + np.cos(fast * t)) / 2, (np.cos(w * t) - np.cos(fast * t)) / 2], 1)
    np.testing.assert_allclose(q, expected, atol=1e-7)


def test_damped_single_oscillator_matches_closed_form():
    # q'' = -w^2 q - c q', q(0) = 1, q'(0) = 0: underdamped decay.
    w, c = 2.0, 0.3
    system = Oscillators(np.array([w]), np.array([]), damping=c, pendulum=False)
    t = np.linspace(0, 10, 201)
    q = simulate(system, np.array([1.0]), np.array([0.0]), t)[:, 0]
    wd = np.sqrt(w ** 2 - c ** 2 / 4)
    expected = np.exp(-c * t / 2) * (np.cos(wd * t) + c / (2 * wd) * np.sin(wd * t))
    np.testing.assert_allclose(q, expected, atol=1e-7)


def test_pendulum_conserves_energy_without_damping():
    system = Oscillators(np.array([1.5]), np.array([]), damping=0.0, pendulum=True)
    t = np.linspace(0, 20, 2001)
    q = simulate(system, np.array([2.0]), np.array([0.0]), t)[:, 0]  # large angle: sin(q) != q matters
    v = np.gradient(q, t, edge_order=2)
    energy = 0.5 * v ** 2 + 1.5 ** 2 * (1 - np.cos(q))
    assert np.ptp(energy[5:-5]) < 1e-3 * energy[0]
    assert q.min() == pytest.approx(-2.0, abs=1e-3)  # swings to the mirror angle


def test_acceleration_matches_laplacian_form():
    rng = np.random.default_rng(1)
    system, _, _ = random_system(4, rng)
    q, v = rng.normal(size=4), rng.normal(size=4)
    lap = np.zeros((4, 4))
    for i, k in enumerate(system.springs):
        lap[np.ix_([i, i + 1], [i, i + 1])] += k * np.array([[1, -1], [-1, 1]])
    expected = -system.omega ** 2 * np.sin(q) - system.damping * v - lap @ q
    np.testing.assert_allclose(acceleration(q, v, system.params(), pendulum=True), expected, rtol=1e-12)


def test_fit_recovers_known_parameters_from_clean_data():
    system, q0, v0 = random_system(3, np.random.default_rng(7), damping=0.05)
    traj = trajectory(system, q0, v0, t_train=10.0, t_test=12.0, dt=0.05)
    fitted, q0_fit, v0_fit = fit_system(traj.t[traj.train], traj.q[traj.train])
    np.testing.assert_allclose(fitted.params(), system.params(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(q0_fit, q0, atol=1e-6)
    np.testing.assert_allclose(v0_fit, v0, atol=1e-6)


def test_regression_guess_is_close_before_refinement():
    system, q0, v0 = random_system(2, np.random.default_rng(3))
    traj = trajectory(system, q0, v0, t_train=10.0, t_test=11.0, dt=0.05)
    p, _ = regress_params(traj.t[traj.train], traj.q[traj.train], pendulum=True)
    np.testing.assert_allclose(p, system.params(), rtol=0.01, atol=1e-3)


def test_seeded_system_is_reproducible_and_noise_needs_a_generator():
    a = random_system(3, np.random.default_rng(0))
    b = random_system(3, np.random.default_rng(0))
    np.testing.assert_array_equal(a[0].params(), b[0].params())
    with pytest.raises(ConfigError, match="rng"):
        trajectory(*a, noise=0.1)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ConfigError, match="springs"):
        Oscillators(np.ones(3), np.ones(3))
    with pytest.raises(DataError, match="NaN"):
        fit_system(np.linspace(0, 1, 20), np.full((20, 2), np.nan))
    with pytest.raises(ConfigError, match="t_train"):
        trajectory(*random_system(2, np.random.default_rng(0)), t_train=5, t_test=4)


def test_state_at_end_reads_angles_and_velocities_off_the_last_samples():
    t = np.round(np.arange(0, 10.0001, 0.05), 10)
    q = np.stack([np.sin(1.3 * t), 0.5 * np.cos(0.7 * t)], 1)
    q_end, v_end = state_at_end(t, q)
    np.testing.assert_allclose(q_end, q[-1], atol=1e-5)  # a quartic through 11 samples, read at its end
    np.testing.assert_allclose(v_end, [1.3 * np.cos(13.0), -0.35 * np.sin(7.0)], atol=5e-4)  # the derivatives


def test_synced_run_forecasts_from_the_observed_state_not_the_fitted_start():
    # The true system with a wrong fitted start: inside it follows that start; after t[end - 1] it restarts from the
    # observed state, so it matches the truth again (a forecaster that reads the observations up to there).
    system = Oscillators(np.array([1.1, 1.4]), np.array([0.3]), damping=0.02)
    t = np.round(np.arange(0, 20.0001, 0.05), 10)
    truth = simulate(system, np.array([0.6, -0.4]), np.zeros(2), t)
    end = int(np.sum(t <= 10.0))
    run = synced_run((system, np.array([0.5, -0.3]), np.zeros(2)), t, truth, end)
    np.testing.assert_allclose(run[:end], simulate(system, np.array([0.5, -0.3]), np.zeros(2), t[:end]))
    assert np.abs(run[end - 1] - truth[end - 1]).max() > 0.01  # the fitted start's misfit at t = 10
    np.testing.assert_allclose(run[end:], truth[end:], atol=1e-4)
