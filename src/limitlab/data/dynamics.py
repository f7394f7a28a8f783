"""Coupled oscillators: a chain of pendulums joined by springs, simulated with SciPy's `solve_ivp`.

Each oscillator i has an angle q_i and obeys

    q_i'' = -omega_i^2 g(q_i) - damping * q_i' - sum_j L_ij q_j,

with g(q) = sin(q) for pendulums and g(q) = q for linear oscillators, and L the graph Laplacian of a
chain of springs (spring k_i between oscillators i and i+1). The right-hand side is linear in the
parameters (omega_i^2, damping, k_i): `fit_system` recovers them by linear least squares on
Savitzky-Golay derivative estimates, then refines them (and the initial state) by nonlinear
least squares on the simulated trajectory (one batched ODE solve per Jacobian). Parameters and initial
conditions come from a seeded NumPy generator (`random_system`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares
from scipy.signal import savgol_filter

from limitlab.errors import ConfigError, DataError


@dataclass(frozen=True)
class Oscillators:
    """N coupled oscillators: natural frequencies `omega` (N,), chain springs `springs` (N-1,), `damping`."""

    omega: np.ndarray
    springs: np.ndarray
    damping: float = 0.0
    pendulum: bool = True

    def __post_init__(self) -> None:
        omega, springs = np.asarray(self.omega, float), np.asarray(self.springs, float)
        if omega.ndim != 1 or len(omega) < 1:
            raise ConfigError(f"omega has shape {omega.shape}; expected one frequency per oscillator, shape (N,)")
        if springs.shape != (len(omega) - 1,):
            raise ConfigError(f"springs has shape {springs.shape} for {len(omega)} oscillators; "
                              f"expected ({len(omega) - 1},): one spring between neighbours")
        if not (np.all(np.isfinite(omega)) and np.all(np.isfinite(springs)) and np.isfinite(self.damping)):
            raise ConfigError("omega, springs and damping must be finite numbers")
        object.__setattr__(self, "omega", omega)
        object.__setattr__(self, "springs", springs)

    @property
    def num_oscillators(self) -> int:
        return len(self.omega)

    def params(self) -> np.ndarray:
        """The parameters the equations are linear in: (omega_1^2..omega_N^2, damping, k_1..k_{N-1})."""
        return np.concatenate([self.omega ** 2, [self.damping], self.springs])

    @classmethod
    def from_params(cls, p: np.ndarray, *, pendulum: bool = True) -> Oscillators:
        n = len(p) // 2
        return cls(np.sqrt(np.maximum(p[:n], 0.0)), p[n + 1:], float(p[n]), pendulum)


def acceleration(q: np.ndarray, v: np.ndarray, p: np.ndarray, *, pendulum: bool) -> np.ndarray:
    """q'' for angles q and velocities v of shape (N, ...) and parameters p of shape (2N, ...)."""
    n = q.shape[0]
    omega2, damping, springs = p[:n], p[n], p[n + 1:]
    acc = -omega2 * (np.sin(q) if pendulum else q) - damping * v
    stretch = springs * (q[1:] - q[:-1])  # spring i pulls oscillator i towards i+1 and vice versa
    acc[:-1] += stretch
    acc[1:] -= stretch
    return acc


def simulate_batch(p: np.ndarray, q0: np.ndarray, v0: np.ndarray, t: np.ndarray, *, pendulum: bool,
                   rtol: float = 1e-9, atol: float = 1e-10) -> np.ndarray:
    """Angles for m systems at once: p (2N, m), q0 and v0 (N, m) -> q of shape (len(t), N, m). DOP853."""
    n, m = q0.shape

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        q, v = y[:n * m].reshape(n, m), y[n * m:].reshape(n, m)
        return np.concatenate([v.ravel(), acceleration(q, v, p, pendulum=pendulum).ravel()])

    sol = solve_ivp(rhs, (t[0], t[-1]), np.concatenate([q0.ravel(), v0.ravel()]), method="DOP853",
                    t_eval=t, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[:n * m].T.reshape(len(t), n, m)


def simulate(system: Oscillators, q0: np.ndarray, v0: np.ndarray, t: np.ndarray, *,
             rtol: float = 1e-9, atol: float = 1e-10) -> np.ndarray:
    """Angles q(t) at times `t`, shape (len(t), N), from q(t[0]) = q0 and q'(t[0]) = v0."""
    n = system.num_oscillators
    q0, v0, t = np.asarray(q0, float), np.asarray(v0, float), np.asarray(t, float)
    if q0.shape != (n,) or v0.shape != (n,):
        raise ConfigError(f"initial conditions have shapes {q0.shape}, {v0.shape}; expected ({n},) each")
    if t.ndim != 1 or len(t) < 2 or np.any(np.diff(t) <= 0):
        raise ConfigError("t must be an increasing 1-D array of at least two times")
    q = simulate_batch(system.params()[:, None], q0[:, None], v0[:, None], t, pendulum=system.pendulum,
                       rtol=rtol, atol=atol)
    return q[..., 0]


def random_system(num_oscillators: int, rng: np.random.Generator, *, damping: float = 0.02,
                  pendulum: bool = True) -> tuple[Oscillators, np.ndarray, np.ndarray]:
    """A seeded chain: omega_i in [0.8, 1.6], springs in [0.2, 0.6], |q0_i| in [0.4, 1.0] rad, v0 = 0."""
    if num_oscillators < 1:
        raise ConfigError(f"num_oscillators={num_oscillators}; expected >= 1")
    omega = rng.uniform(0.8, 1.6, num_oscillators)
    springs = rng.uniform(0.2, 0.6, num_oscillators - 1)
    q0 = rng.uniform(0.4, 1.0, num_oscillators) * rng.choice([-1.0, 1.0], num_oscillators)
    return Oscillators(omega, springs, damping, pendulum), q0, np.zeros(num_oscillators)


@dataclass(frozen=True)
class Trajectory:
    """Observed angles `q` (T, N) at times `t` (T,); the training window is t <= `t_split`."""

    t: np.ndarray
    q: np.ndarray
    t_split: float

    @property
    def train(self) -> np.ndarray:
        """Boolean mask of the training window."""
        return self.t <= self.t_split + 1e-9

    @property
    def test(self) -> np.ndarray:
        return ~self.train


def trajectory(system: Oscillators, q0: np.ndarray, v0: np.ndarray, *, t_train: float = 10.0,
               t_test: float = 30.0, dt: float = 0.05, noise: float = 0.0,
               rng: np.random.Generator | None = None) -> Trajectory:
    """Simulate on [0, t_test] every `dt`; training window [0, t_train]; optional Gaussian noise on q."""
    if not 0 < t_train < t_test:
        raise ConfigError(f"t_train={t_train}, t_test={t_test}; expected 0 < t_train < t_test")
    if not 0 < dt <= t_train / 10:
        raise ConfigError(f"dt={dt}; expected 0 < dt <= t_train / 10 (at least ten training samples)")
    t = np.round(np.arange(0.0, t_test + dt / 2, dt), 10)
    q = simulate(system, q0, v0, t)
    if noise > 0:
        if rng is None:
            raise ConfigError("noise > 0 needs a seeded rng (e.g. ctx.rng('noise'))")
        q = q + noise * rng.standard_normal(q.shape)
    return Trajectory(t, q, t_train)


def regress_params(t: np.ndarray, q: np.ndarray, *, pendulum: bool, edge: float = 0.05
                   ) -> tuple[np.ndarray, np.ndarray]:
    """First guess: (p, v0) by linear least squares of estimated accelerations on the linear-in-p equations.

    q' and q'' come from Savitzky-Golay filters (local quartic fits over 11 samples; they also smooth
    noise); the first and last `edge` of the window, where those estimates are least accurate, are left
    out of the regression. Assumes evenly spaced times.
    """
    n, dt = q.shape[1], float(t[1] - t[0])
    window = min(11, len(t) - (1 - len(t) % 2))
    qs = savgol_filter(q, window, 4, axis=0).T
    vs = savgol_filter(q, window, 4, deriv=1, delta=dt, axis=0).T
    acc = savgol_filter(q, window, 4, deriv=2, delta=dt, axis=0).T
    v0 = vs[:, 0].copy()
    keep = (t >= t[0] + edge * (t[-1] - t[0])) & (t <= t[-1] - edge * (t[-1] - t[0]))
    qs, vs, acc = qs[:, keep], vs[:, keep], acc[:, keep]
    # Design matrix: column per parameter, rows = (oscillator, time) pairs; acc = A @ p.
    cols = np.zeros((2 * n, n, keep.sum()))
    for i in range(n):
        cols[i, i] = -(np.sin(qs[i]) if pendulum else qs[i])
    cols[n] = -vs
    for i in range(n - 1):
        stretch = qs[i + 1] - qs[i]
        cols[n + 1 + i, i] = stretch
        cols[n + 1 + i, i + 1] = -stretch
    design = cols.reshape(2 * n, -1).T
    p, *_ = np.linalg.lstsq(design, acc.ravel(), rcond=None)
    return p, v0


def state_at_end(t: np.ndarray, q: np.ndarray, *, window: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """(angles, velocities) at the last time of observations q (T, N) at evenly spaced times t: a Savitzky-Golay
    quartic through the last `window` samples (the estimate `regress_params` makes), evaluated at its end. What a
    forecast that starts from the observations up to t[-1] knows; the velocities are not observed."""
    dt, window = float(t[1] - t[0]), min(window, len(t) - (1 - len(t) % 2))
    tail = np.asarray(q, float)[-window:]
    return (savgol_filter(tail, window, 4, axis=0)[-1], savgol_filter(tail, window, 4, deriv=1, delta=dt, axis=0)[-1])


def synced_run(fit: tuple[Oscillators, np.ndarray, np.ndarray], t: np.ndarray, q: np.ndarray, end: int) -> np.ndarray:
    """A fitted (system, q0, v0)'s angles at times t (T,): from its fitted start up to t[end - 1], then a forecast from
    the state observed there (`state_at_end` of the observations q[:end]): a synchronized start, like a forecaster
    that reads the observations up to t[end - 1]. Shape (T, N)."""
    q_end, v_end = state_at_end(t[:end], q[:end])
    return np.concatenate([simulate(*fit, t[:end]), simulate(fit[0], q_end, v_end, t[end - 1:])[1:]])


def fit_system(t: np.ndarray, q: np.ndarray, *, pendulum: bool = True, refine: bool = True,
               max_nfev: int = 30) -> tuple[Oscillators, np.ndarray, np.ndarray]:
    """Fit a chain of q.shape[1] oscillators (the right equations, unknown parameters) to angles q(t).

    Returns (system, q0, v0). With `refine`, the regression's guess is polished by nonlinear least
    squares on the simulated trajectory over parameters and initial state together (`least_squares`
    with an analytic-free Jacobian: one batched solve of all finite-difference perturbations).
    """
    t, q = np.asarray(t, float), np.asarray(q, float)
    if q.ndim != 2 or q.shape[0] != len(t) or len(t) < 10:
        raise DataError(f"q has shape {q.shape} for {len(t)} times; expected (T, N) with T = len(t) >= 10")
    if not np.all(np.isfinite(q)):
        raise DataError("q has NaN/Inf values; the oscillator fit needs finite angles")
    n = q.shape[1]
    p, v0 = regress_params(t, q, pendulum=pendulum)
    p = np.maximum(p, 0.0)  # frequencies, damping and springs are non-negative
    x0 = np.concatenate([p, q[0], v0])
    if refine:
        x0 = _refine(t, q, x0, n, pendulum, max_nfev)
    p, q0, v0 = x0[:2 * n], x0[2 * n:3 * n], x0[3 * n:]
    return Oscillators.from_params(p, pendulum=pendulum), q0, v0


def _refine(t: np.ndarray, q: np.ndarray, x0: np.ndarray, n: int, pendulum: bool, max_nfev: int) -> np.ndarray:
    """Nonlinear least squares over x = (p, q0, v0); residuals and Jacobian from one batched solve."""
    memo: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def solve(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = x.tobytes()
        if key not in memo:
            steps = 1e-6 * np.maximum(np.abs(x), 1e-2)
            xs = np.concatenate([x[:, None], x[:, None] + np.diag(steps)], axis=1)  # base + one per parameter
            qs = simulate_batch(xs[:2 * n], xs[2 * n:3 * n], xs[3 * n:], t, pendulum=pendulum,
                                rtol=1e-10, atol=1e-11)
            base = qs[..., 0]
            jac = ((qs[..., 1:] - base[..., None]) / steps).reshape(-1, len(x))
            memo.clear()
            memo[key] = ((base - q).ravel(), jac)
        return memo[key]

    lower = np.concatenate([np.zeros(2 * n), np.full(2 * n, -np.inf)])
    res = least_squares(lambda x: solve(x)[0], x0, jac=lambda x: solve(x)[1], method="trf",
                        bounds=(lower, np.inf), x_scale="jac", max_nfev=max_nfev)
    return res.x
