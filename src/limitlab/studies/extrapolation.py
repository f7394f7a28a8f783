"""Extrapolation: flexible networks fit their training window and fail outside it; physics does not.

Sources: 001 (coupled pendulums, "grandfather clocks coupled by air": an LSTM matches the first ten
time units and fails when extrapolating, while a model with the true physics, even with too few
oscillators, keeps partial track), 003 (deep nets generalize locally; physics lands the rocket in one
trial). LSTM: Hochreiter & Schmidhuber 1997. ReLU networks extrapolate linearly: Xu et al., How neural
networks extrapolate, ICLR 2021, arXiv:2009.11848.

Protocol: a chain of `num_oscillators` pendulums coupled by springs (`limitlab.data.dynamics`, SciPy
DOP853), parameters and initial angles seeded; observed every `dt` on [0, t_test]; every model sees only
[0, t_train]. Arms: an LSTM predicting the next velocity from the angles so far, rolled out
autoregressively; an MLP of time (ReLU); the physics model (the right equations, unknown parameters and
initial velocities, fitted by least squares: `dynamics.fit_system`); the same physics with only the first
`num_modeled` oscillators (the notes' orange curve). Inside the window the LSTM runs free after a warm-up
of `warmup` time units of true angles; outside it runs free from the true angles up to t_train. Errors
are RMSE in radians and relative errors (RMSE / RMS of the true angles in that window, the error of
predicting 0). The one-dimensional form: independent ReLU MLPs fitted on [-1, 1] to each of `functions`,
evaluated on [-3, 3]; how straight each fit is outside (R^2 of a line through it on [1.5, 3] and on
[-3, -1.5]) and its slope there against the true function's tangent at the edge (linear extrapolation).

Verdict: "interpolate" = the LSTM and the MLP of time both have relative error <= 0.2 inside the window;
"fail" = both have relative error >= 0.5 outside it; "physics" = the physics model's relative error
outside is <= 0.1 and its fitted frequencies and springs are within 5% of the true ones; "partial" = the
model with too few oscillators has a lower relative error outside than both networks; "linear" = every 1-D
fit has R^2 >= 0.99 on both sides outside [-1, 1]. The claim holds if all five hold; it fails if "fail"
or "physics" does not hold (a network extrapolated, or the right physics did not); otherwise inconclusive.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.data.dynamics import Oscillators, Trajectory, fit_system, random_system, simulate, trajectory
from limitlab.models import TrainConfig, build, fit
from limitlab.models.grouped_mlp import GroupedMLP
from limitlab.models.lstm import SequenceLSTM
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

# name -> (f, f', title), for the one-dimensional arm
FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], str]] = {
    "sin": (lambda x: np.sin(np.pi * x), lambda x: np.pi * np.cos(np.pi * x), "sin(πx)"),
    "square": (lambda x: x ** 2, lambda x: 2 * x, "x²"),
    "cubic": (lambda x: x ** 3, lambda x: 3 * x ** 2, "x³"),
    "abs": (np.abs, np.sign, "|x|"),
    "tanh": (lambda x: np.tanh(2 * x), lambda x: 2 / np.cosh(2 * x) ** 2, "tanh(2x)"),
    "exp": (np.exp, np.exp, "exp(x)"),
}
ARMS = ("lstm", "mlp", "physics", "reduced")
ARM_LABELS = {"lstm": "LSTM (autoregressive)", "mlp": "MLP of time", "physics": "physics, fitted",
              "reduced": "physics, too few oscillators"}


@dataclass(frozen=True)
class ExtrapolationConfig:
    num_oscillators: int = 3
    num_modeled: int = 2  # oscillators in the reduced physics model (the first ones of the chain)
    t_train: float = 10.0
    t_test: float = 30.0
    dt: float = 0.05
    damping: float = 0.02
    noise: float = 0.0  # Gaussian noise (radians) on the observed angles
    lstm_hidden: int = 32
    lstm_window: int = 40  # training subsequence length (steps)
    lstm_epochs: int = 100
    warmup: float = 1.0  # time units of true angles the LSTM reads before running free in the window
    mlp_hidden: tuple[int, ...] = (64, 64, 64)
    mlp_epochs: int = 1000
    functions: tuple[str, ...] = ("sin", "square", "cubic", "abs")
    fn_hidden: int = 64
    fn_epochs: int = 800

    def __post_init__(self) -> None:
        check(self.num_oscillators >= 2, f"num_oscillators={self.num_oscillators}; expected >= 2")
        check(1 <= self.num_modeled < self.num_oscillators,
              f"num_modeled={self.num_modeled}; expected 1..{self.num_oscillators - 1} (fewer than num_oscillators)")
        check(0 < self.t_train < self.t_test, f"t_train={self.t_train}, t_test={self.t_test}; expected 0 < t_train < t_test")
        check(0 < self.dt <= self.t_train / 20, f"dt={self.dt}; expected 0 < dt <= t_train / 20")
        check(self.damping >= 0 and self.noise >= 0, "damping and noise must be >= 0")
        check(0 < self.warmup < self.t_train, f"warmup={self.warmup}; expected 0 < warmup < t_train")
        check(2 <= self.lstm_window < self.t_train / self.dt,
              f"lstm_window={self.lstm_window}; expected 2 .. {int(self.t_train / self.dt) - 1} steps")
        check(min(self.lstm_hidden, self.lstm_epochs, self.mlp_epochs, self.fn_hidden, self.fn_epochs) >= 1,
              "hidden sizes and epochs must be >= 1")
        check(len(self.mlp_hidden) >= 1 and min(self.mlp_hidden) >= 1, f"mlp_hidden={self.mlp_hidden}; expected sizes >= 1")
        unknown = [f for f in self.functions if f not in FUNCTIONS]
        check(len(self.functions) >= 1 and not unknown,
              f"functions={self.functions}; expected names among {', '.join(FUNCTIONS)}")


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


@torch.no_grad()
def rollout(model: SequenceLSTM, history: np.ndarray, num_steps: int, dt: float) -> np.ndarray:
    """Read the true angles `history` (T0, N), then run free for `num_steps`: q <- q + dt * predicted velocity."""
    model.eval()
    out, state = model.step(torch.as_tensor(history, dtype=torch.float32)[None])
    q = torch.as_tensor(history[-1], dtype=torch.float32) + dt * out[0, -1]
    preds = [q]
    for _ in range(num_steps - 1):
        out, state = model.step(q.view(1, 1, -1), state)
        q = q + dt * out[0, 0]
        preds.append(q)
    return torch.stack(preds).numpy().astype(float)


def straightness(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(R^2, slope) of the least-squares line through (x, y); R^2 = 1 for a constant y."""
    slope, intercept = np.polyfit(x, y, 1)
    ss_res, ss_tot = np.sum((y - slope * x - intercept) ** 2), np.sum((y - y.mean()) ** 2)
    return (1.0 if ss_tot < 1e-12 else float(1 - ss_res / ss_tot)), float(slope)


@register("extrapolation", chapter="reasoning", sources=("001", "003"))
class Extrapolation(Study[ExtrapolationConfig]):
    """Local generalization vs physics on coupled oscillators, and ReLU extrapolation in 1-D. Sources: 001, 003."""

    claim = ("A flexible network interpolates its training window but fails outside it; a model that encodes "
             "the known structure of the system extrapolates from the same data.")
    Config = ExtrapolationConfig
    presets = {
        "tiny": {"t_test": 20.0, "dt": 0.1, "lstm_hidden": 16, "lstm_window": 20, "lstm_epochs": 30,
                 "mlp_hidden": (32, 32), "mlp_epochs": 300, "functions": ("sin", "abs"), "fn_hidden": 32,
                 "fn_epochs": 300},
        "full": {"num_oscillators": 5, "num_modeled": 3, "t_test": 40.0, "lstm_hidden": 128, "lstm_epochs": 400,
                 "mlp_hidden": (128, 128, 128), "mlp_epochs": 4000, "functions": tuple(FUNCTIONS),
                 "fn_epochs": 3000},
    }

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        system, q0, v0 = random_system(cfg.num_oscillators, ctx.rng("system"), damping=cfg.damping)
        traj = trajectory(system, q0, v0, t_train=cfg.t_train, t_test=cfg.t_test, dt=cfg.dt, noise=cfg.noise,
                          rng=ctx.rng("noise"))
        truth = simulate(system, q0, v0, traj.t)  # noise-free angles: what every arm is scored against
        preds, fitted = self.arms(traj, ctx)
        metrics = self.trajectory_metrics(traj, truth, preds)
        p_true, p_fit = system.params(), fitted["physics"].params()
        n = cfg.num_oscillators
        rel = np.abs(p_fit - p_true) / np.abs(p_true)
        metrics["param_error"] = (float(np.delete(rel, n).max()), "fraction",
                                  "largest relative error of the physics model's fitted frequencies and springs")
        metrics["damping_error"] = (float(abs(p_fit[n] - p_true[n])), "1/time", "absolute error of the fitted damping")
        fn_table, fn_panels, fn_metrics = self.one_dimensional(ctx)
        metrics.update(fn_metrics)
        tables = [self.param_table(system, fitted), fn_table]
        return self.result(ctx, metrics=metrics, figures=self.figures(traj, truth, preds, metrics, fn_panels),
                           tables=tables)

    def arms(self, traj: Trajectory, ctx: Context) -> tuple[dict[str, np.ndarray], dict[str, Oscillators]]:
        """Each arm's predicted angles on the whole time grid (NaN where it does not predict)."""
        m = self.config.num_modeled
        t, q, train = traj.t, traj.q, traj.train
        preds = {"lstm": self.lstm(traj, ctx), "mlp": self.mlp_of_time(traj, ctx)}
        fitted = {}
        for arm, cols in (("physics", slice(None)), ("reduced", slice(0, m))):
            system, q0, v0 = fit_system(t[train], q[train][:, cols])
            fitted[arm] = system
            preds[arm] = simulate(system, q0, v0, t)
        return preds, fitted

    def lstm(self, traj: Trajectory, ctx: Context) -> np.ndarray:
        cfg = self.config
        q = traj.q[traj.train]
        n, steps = q.shape[1], len(q) - 1
        vel = (q[1:] - q[:-1]) / cfg.dt  # target: the velocity that leads to the next angle
        starts = np.arange(steps - cfg.lstm_window + 1)
        idx = starts[:, None] + np.arange(cfg.lstm_window)
        data = ArrayDataset(torch.tensor(q[:-1][idx], dtype=torch.float32), torch.tensor(vel[idx], dtype=torch.float32),
                            name="oscillator-windows", bounds=(-np.pi, np.pi))
        model = SequenceLSTM(in_features=n, out_features=n, hidden=cfg.lstm_hidden)
        fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description="train LSTM",
            config=TrainConfig(epochs=cfg.lstm_epochs, batch_size=32, lr=3e-3, patience=None, eval_train=False))
        out = np.full_like(traj.q, np.nan)
        w = int(round(cfg.warmup / cfg.dt))
        out[w + 1:len(q)] = rollout(model, q[:w + 1], len(q) - w - 1, cfg.dt)
        out[len(q):] = rollout(model, q, len(traj.t) - len(q), cfg.dt)
        return out

    def mlp_of_time(self, traj: Trajectory, ctx: Context) -> np.ndarray:
        cfg = self.config
        s = torch.tensor(2 * traj.t / cfg.t_train - 1, dtype=torch.float32)[:, None]  # the window is [-1, 1]
        train = torch.as_tensor(traj.train)
        data = ArrayDataset(s[train], torch.tensor(traj.q[traj.train], dtype=torch.float32), name="oscillator-times",
                            bounds=(-1, 1))
        model = build("mlp", in_shape=(1,), num_classes=traj.q.shape[1], hidden=cfg.mlp_hidden)
        fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description="train MLP of time",
            config=TrainConfig(epochs=cfg.mlp_epochs, batch_size=len(data), lr=3e-3, patience=None, eval_train=False))
        with torch.no_grad():
            return model.eval()(s).numpy().astype(float)

    def trajectory_metrics(self, traj: Trajectory, truth: np.ndarray, preds: Mapping[str, np.ndarray]
                           ) -> dict[str, Metric | tuple]:
        cfg, m = self.config, self.config.num_modeled
        inside = traj.train & (traj.t > cfg.warmup + 1e-9)
        metrics: dict[str, Metric | tuple] = {}
        for arm, pred in preds.items():
            cols = slice(0, m) if arm == "reduced" else slice(None)
            for where, mask in (("in", inside), ("out", traj.test)):
                err = rms(pred[mask] - truth[mask][:, cols])
                label = "inside the training window" if where == "in" else "outside it"
                metrics[f"rmse_{where}_{arm}"] = (err, "radians", f"RMSE of {ARM_LABELS[arm]} {label}")
                metrics[f"rel_{where}_{arm}"] = (err / rms(truth[mask][:, cols]), "fraction",
                                                 f"RMSE / RMS of the true angles, {ARM_LABELS[arm]}, {label}")
        return metrics

    def one_dimensional(self, ctx: Context) -> tuple[Table, list[dict], dict[str, tuple]]:
        """ReLU MLPs fitted on [-1, 1] to each function, evaluated on [-3, 3]."""
        cfg = self.config
        x_train, x = np.linspace(-1, 1, 256), np.linspace(-3, 3, 601)
        ys = np.stack([FUNCTIONS[f][0](x_train) for f in cfg.functions], 1)
        data = ArrayDataset(torch.tensor(x_train[:, None], dtype=torch.float32), torch.tensor(ys, dtype=torch.float32),
                            name="functions-" + "-".join(cfg.functions), bounds=(-1, 1))
        model = GroupedMLP(num_groups=len(cfg.functions), hidden=cfg.fn_hidden)
        fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description="fit 1-D functions",
            config=TrainConfig(epochs=cfg.fn_epochs, batch_size=len(data), lr=3e-3, patience=None, eval_train=False))
        with torch.no_grad():
            fx = model.eval()(torch.tensor(x[:, None], dtype=torch.float32)).numpy().astype(float)
        metrics, rows, panels = {}, [], []
        inside, right, left = np.abs(x) <= 1, x >= 1.5, x <= -1.5
        for k, f in enumerate(cfg.functions):
            fn, dfn, name = FUNCTIONS[f]
            r2_right, slope_right = straightness(x[right], fx[right, k])
            r2_left, slope_left = straightness(x[left], fx[left, k])
            err_in, err_out = rms(fx[inside, k] - fn(x[inside])), rms(fx[~inside, k] - fn(x[~inside]))
            metrics[f"fn_rmse_in_{f}"] = (err_in, "", f"RMSE of the ReLU fit to {f} on [-1, 1]")
            metrics[f"fn_rmse_out_{f}"] = (err_out, "", f"RMSE of the ReLU fit to {f} outside [-1, 1] (up to |x| = 3)")
            metrics[f"fn_straight_{f}"] = (min(r2_left, r2_right), "R^2",
                                           f"how straight the fit to {f} is outside: R^2 of a line, worse side")
            rows.append([f, err_in, err_out, r2_left, r2_right, slope_left, float(dfn(-1.0)), slope_right,
                         float(dfn(1.0))])
            tangent = np.where(x < 0, fn(-1.0) + dfn(-1.0) * (x + 1), fn(1.0) + dfn(1.0) * (x - 1))
            lim = (float(fn(x).min()) - 0.5, float(fn(x).max()) + 0.5)
            panels.append(figures.lines([
                figures.series("true function", x, fn(x), style="line"),
                figures.series("ReLU MLP fit", x, fx[:, k], style="line"),
                figures.series("tangent at ±1", x, np.where(inside, np.nan, tangent), style="line"),
            ], title=name, xlabel="x", ylabel="f(x)", ylim=lim, vspans=[{"x0": -1, "x1": 1, "label": "training range"}]))
        table = Table("ReLU fits outside the training range [-1, 1]",
                      ["function", "RMSE in", "RMSE out", "R² left", "R² right", "slope left", "f'(-1)",
                       "slope right", "f'(1)"], rows,
                      caption="Slopes are those of a line through the fit on [-3, -1.5] and [1.5, 3]; f'(±1) is "
                              "the slope linear extrapolation from the edge of the training range would have.")
        return table, panels, metrics

    def param_table(self, system: Oscillators, fitted: Mapping[str, Oscillators]) -> Table:
        n, m = self.config.num_oscillators, self.config.num_modeled

        def named(s: Oscillators) -> dict[str, float]:
            out = {f"omega_{i + 1}": float(w) for i, w in enumerate(s.omega)}
            out.update({f"spring_{i + 1}-{i + 2}": float(k) for i, k in enumerate(s.springs)})
            return {**out, "damping": float(s.damping)}

        true, phys, red = named(system), named(fitted["physics"]), named(fitted["reduced"])
        rows = [[name, value, phys[name], red.get(name, "—")] for name, value in true.items()]
        return Table("Physical parameters: true vs fitted on the training window",
                     ["parameter", "true", "physics fit", f"fit with {m} of {n} oscillators"], rows,
                     caption="Frequencies in rad/time, springs in 1/time², damping in 1/time. The reduced model's "
                             "last frequency absorbs the spring to the oscillators it leaves out.")

    def figures(self, traj: Trajectory, truth: np.ndarray, preds: Mapping[str, np.ndarray],
                metrics: Mapping[str, Metric | tuple], fn_panels: list[dict]) -> list[Figure]:
        cfg = self.config
        lim = 1.6 * float(np.abs(truth).max())
        window = [{"x0": 0.0, "x1": cfg.t_train, "label": "training window"}]
        panels = []
        for i in range(cfg.num_oscillators):
            series = [figures.series("truth", traj.t, truth[:, i], style="line")]
            for arm, pred in preds.items():
                if arm != "reduced" or i < cfg.num_modeled:
                    every = 6 if arm == "physics" else 1  # dots, so the truth stays visible under them
                    series.append(figures.series(ARM_LABELS[arm], traj.t[::every], pred[::every, i],
                                                 style="points" if arm == "physics" else "line"))
            panels.append(figures.lines(series, title=f"oscillator {i + 1}", xlabel="time", ylabel="angle (rad)",
                                        ylim=(-lim, lim), vspans=window))
        trajectories = Figure("trajectories", "Coupled pendulums: truth vs each model", panels, caption=(
            f"Every model sees only t ≤ {cfg.t_train:g} (shaded). The LSTM runs free after {cfg.warmup:g} time "
            f"unit(s) inside the window and from the true angles at t = {cfg.t_train:g} outside; the physics models "
            f"are simulated from their fitted initial state (the full one drawn as dots). Curves leaving the frame "
            f"are clipped."))
        value = lambda name: metrics[name][0] if isinstance(metrics[name], tuple) else metrics[name].value  # noqa: E731
        errors = Figure("errors", "Relative error by model", [figures.bars(
            [ARM_LABELS[a] for a in ARMS],
            [{"label": "inside (t ≤ %g)" % cfg.t_train, "values": [value(f"rel_in_{a}") for a in ARMS]},
             {"label": "outside (t > %g)" % cfg.t_train, "values": [value(f"rel_out_{a}") for a in ARMS]}],
            ylabel="RMSE / RMS of the true angles", ylim=(0, 2))],
            caption="1 is the error of predicting zero; bars taller than 2 are cut (the numbers are in the "
                    "metrics). The model with too few oscillators is scored on the oscillators it models.")
        fns = Figure("functions", "ReLU MLPs fitted on [-1, 1], evaluated on [-3, 3]", fn_panels, caption=(
            "Outside the training range each fit continues as a straight line; \"tangent at ±1\": the tangent line at the "
            "edge, which is what linear extrapolation from the training range would give."))
        return [trajectories, errors, fns]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        cfg = self.config
        nets = ("lstm", "mlp")
        parts = {
            "interpolate": all(m[f"rel_in_{a}"] <= 0.2 for a in nets),
            "fail": all(m[f"rel_out_{a}"] >= 0.5 for a in nets),
            "physics": m["rel_out_physics"] <= 0.1 and m["param_error"] <= 0.05,
            "partial": m["rel_out_reduced"] < min(m[f"rel_out_{a}"] for a in nets),
            "linear": all(m[f"fn_straight_{f}"] >= 0.99 for f in cfg.functions),
        }
        arms = "; ".join(f"{a} {m[f'rel_in_{a}']:.2f} -> {m[f'rel_out_{a}']:.2f}" for a in ARMS)
        straight = min(m[f"fn_straight_{f}"] for f in cfg.functions)
        text = (f"Relative error inside -> outside the window: {arms}; fitted parameters within "
                f"{m['param_error']:.1%} of the truth; 1-D ReLU fits outside [-1, 1] have R^2 >= {straight:.3f} to a line")
        failed = [name for name, ok in parts.items() if not ok]
        if not failed:
            return Verdict("holds", text + ".")
        status = "fails" if {"fail", "physics"} & set(failed) else "inconclusive"
        return Verdict(status, f"{text}. Not shown: {', '.join(failed)}.")
