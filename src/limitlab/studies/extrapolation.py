"""Extrapolation: flexible networks fit their training window and fail outside it; physics does not.

Sources: 001 (coupled pendulums, "grandfather clocks coupled by air": an LSTM matches the first ten time units and
fails when extrapolating, while a model with the true physics, even with too few oscillators, keeps partial track),
003 (deep nets generalize locally). LSTM: Hochreiter & Schmidhuber 1997. ReLU networks extrapolate linearly: Xu et
al., How neural networks extrapolate, ICLR 2021, arXiv:2009.11848.

Protocol: a chain of `num_oscillators` pendulums coupled by springs (`limitlab.data.dynamics`, SciPy DOP853),
parameters and initial angles seeded, observed every `dt` on [0, t_test]; every model sees only [0, t_train]. Arms
(`limitlab.models.window_fits`), each initialized from its own stream: an LSTM predicting the next velocity from the
angles so far, rolled out autoregressively (inside the window after a warm-up of `warmup` time units of true angles,
outside from the true angles up to t_train); an MLP of time (ReLU); the physics model (the right equations, unknown
parameters and initial velocities, fitted by least squares: `dynamics.fit_system`); the same physics with only the
first `num_modeled` oscillators (the notes' orange curve). Errors are RMSE in radians and relative errors (RMSE /
RMS of the true angles in that window, the error of predicting 0). The one-dimensional form: independent ReLU MLPs
fitted on [-1, 1] to each of `functions`, evaluated on [-3, 3]; how straight each fit is outside (R^2 of a line
through it on [1.5, 3] and on [-3, -1.5]) and its slope there against the true function's tangent at the edge.

Verdict: "interpolate" = the LSTM and the MLP of time both have relative error <= 0.2 inside the window; "fail" =
both have relative error >= 0.5 outside it; "physics" = the physics model's relative error outside is <= 0.1 and its
fitted frequencies and springs are within 5% of the true ones; "partial" = the model with too few oscillators has a
lower relative error outside than both networks; "linear" = every 1-D fit has R^2 >= 0.99 on both sides outside
[-1, 1]. The claim holds if all five hold; it fails if "fail" or "physics" does not hold (a network extrapolated, or the
right physics did not); otherwise inconclusive.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data.dynamics import Trajectory, fit_system, random_system, simulate, trajectory
from limitlab.data.functions import FUNCTIONS, OUTSIDE_FIT_COLUMNS, outside_fit, rms, tangents
from limitlab.data.oscillator_params import param_errors, param_rows
from limitlab.models import TrainConfig, build
from limitlab.models.grouped_mlp import GroupedMLP
from limitlab.models.lstm import SequenceLSTM
from limitlab.models.window_fits import fit_functions, fit_rollout, fit_time_mlp
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.study import Study, register

ARMS = {"lstm": "LSTM (autoregressive)", "mlp": "MLP of time", "physics": "physics, fitted",
        "reduced": "physics, too few oscillators"}
POSITIVE, COUNT = Interval(0, closed="neither"), Interval(1)
train_config = partial(TrainConfig, lr=3e-3, patience=None, eval_train=False)  # full-batch or 32, no early stop


@dataclass(frozen=True)
class ExtrapolationConfig(Checked):
    constraints: ClassVar = {
        "num_oscillators": Interval(2), "num_modeled": COUNT, "t_train": POSITIVE, "t_test": POSITIVE, "dt": POSITIVE,
        "damping": Interval(0), "noise": Interval(0), "lstm_hidden": COUNT, "lstm_window": Interval(2),
        "lstm_epochs": COUNT, "warmup": POSITIVE, "mlp_hidden": Each(COUNT, min_len=1), "mlp_epochs": COUNT,
        "functions": Each(OneOf(tuple(FUNCTIONS)), min_len=1, unique=True), "fn_hidden": COUNT, "fn_epochs": COUNT}
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

    def validate(self) -> None:
        check(self.num_modeled < self.num_oscillators, f"num_modeled={self.num_modeled}; expected < num_oscillators")
        check(self.t_train < self.t_test, f"t_train={self.t_train}, t_test={self.t_test}; expected t_train < t_test")
        check(self.dt <= self.t_train / 20, f"dt={self.dt}; expected 0 < dt <= t_train / 20")
        check(self.warmup < self.t_train, f"warmup={self.warmup}; expected 0 < warmup < t_train")
        check(self.lstm_window < self.t_train / self.dt, f"lstm_window={self.lstm_window}; expected < t_train / dt")


@register("extrapolation", chapter="reasoning", sources=("001", "003"))
class Extrapolation(Study[ExtrapolationConfig]):
    """Local generalization vs physics on coupled oscillators, and ReLU extrapolation in 1-D. Sources: 001, 003."""

    claim = ("A flexible network interpolates its training window but fails outside it; a model that encodes "
             "the known structure of the system extrapolates from the same data.")
    Config = ExtrapolationConfig
    presets = {"tiny": {"t_test": 20.0, "dt": 0.1, "lstm_hidden": 16, "lstm_window": 20, "lstm_epochs": 30,
                        "mlp_hidden": (32, 32), "mlp_epochs": 300, "functions": ("sin", "abs"), "fn_hidden": 32,
                        "fn_epochs": 300},
               "full": {"num_oscillators": 5, "num_modeled": 3, "t_test": 40.0, "lstm_hidden": 128, "lstm_epochs": 400,
                        "mlp_hidden": (128, 128, 128), "mlp_epochs": 4000, "functions": tuple(FUNCTIONS),
                        "fn_epochs": 3000}}

    def run(self, ctx: Context) -> Result:
        cfg, m, n = self.config, Metrics(), self.config.num_oscillators
        system, q0, v0 = random_system(n, ctx.rng("system"), damping=cfg.damping)
        traj = trajectory(system, q0, v0, t_train=cfg.t_train, t_test=cfg.t_test, dt=cfg.dt, noise=cfg.noise,
                          rng=ctx.rng("noise"))
        truth = simulate(system, q0, v0, traj.t)  # noise-free angles: what every arm is scored against
        with ctx.seeded_torch("init", "lstm"):  # each arm's initial weights from its own stream
            lstm = SequenceLSTM(in_features=n, out_features=n, hidden=cfg.lstm_hidden)
        with ctx.seeded_torch("init", "mlp"):
            mlp = build("mlp", in_shape=(1,), num_classes=n, hidden=cfg.mlp_hidden)
        preds = {"lstm": fit_rollout(lstm, traj, dt=cfg.dt, window=cfg.lstm_window, warmup=round(cfg.warmup / cfg.dt),
                                     config=train_config(epochs=cfg.lstm_epochs, batch_size=32), ctx=ctx),
                 "mlp": fit_time_mlp(mlp, traj, ctx=ctx,
                                     config=train_config(epochs=cfg.mlp_epochs, batch_size=int(traj.train.sum())))}
        modeled = {"physics": slice(None), "reduced": slice(0, cfg.num_modeled)}  # the oscillators each models
        fits = {a: fit_system(traj.t[traj.train], traj.q[traj.train][:, cols]) for a, cols in modeled.items()}
        preds.update({arm: simulate(*f, traj.t) for arm, f in fits.items()})
        inside = traj.train & (traj.t > cfg.warmup + 1e-9)
        for arm, pred in preds.items():
            cols = modeled.get(arm, slice(None))
            for where, mask, label in (("in", inside, "inside the training window"), ("out", traj.test, "outside it")):
                err = rms(pred[mask] - truth[mask][:, cols])
                m.add(f"rmse_{where}_{arm}", err, "radians", f"RMSE of {ARMS[arm]} {label}")
                m.add(f"rel_{where}_{arm}", err / rms(truth[mask][:, cols]), "fraction",
                      f"RMSE / RMS of the true angles, {ARMS[arm]}, {label}")
        param_error, damping_error = param_errors(system, fits["physics"][0])
        m.add("param_error", param_error, "fraction",
              "largest relative error of the physics model's fitted frequencies and springs")
        m.add("damping_error", damping_error, "1/time", "absolute error of the fitted damping")
        params = Table("Physical parameters: true vs fitted on the training window", [
            "parameter", "true", "physics fit", f"fit with {cfg.num_modeled} of {n} oscillators"],
            param_rows(system, fits["physics"][0], fits["reduced"][0]), caption="Frequencies in rad/time, springs in "
            "1/time², damping in 1/time. The reduced model's last frequency absorbs the spring to the oscillators it "
            "leaves out.")
        fn_table, fn_panels = self.one_dimensional(ctx, m)
        return self.result(ctx, metrics=m, figures=self.figures(traj, truth, preds, m, fn_panels),
                           tables=[params, fn_table])

    def one_dimensional(self, ctx: Context, m: Metrics) -> tuple[Table, list[dict]]:
        """ReLU MLPs fitted on [-1, 1] to each function, evaluated on [-3, 3]."""
        cfg, x = self.config, np.linspace(-3, 3, 601)
        with ctx.seeded_torch("init", "functions"):
            model = GroupedMLP(num_groups=len(cfg.functions), hidden=cfg.fn_hidden)
        fx = fit_functions(model, cfg.functions, x, config=train_config(epochs=cfg.fn_epochs, batch_size=256), ctx=ctx)
        rows, panels = [], []
        for k, f in enumerate(cfg.functions):
            fn, e = FUNCTIONS[f][0], outside_fit(x, fx[:, k], f)
            for where, span in (("in", "on [-1, 1]"), ("out", "outside [-1, 1] (up to |x| = 3)")):
                m.add(f"fn_rmse_{where}_{f}", e[f"rmse_{where}"], "", f"RMSE of the ReLU fit to {f} {span}")
            m.add(f"fn_straight_{f}", min(e["r2_left"], e["r2_right"]), "R^2",
                  f"how straight the fit to {f} is outside: R^2 of a line, worse side")
            rows.append([f, *e.values()])
            panels.append(figures.lines([figures.series("true function", x, fn(x), style="line"),
                                         figures.series("ReLU MLP fit", x, fx[:, k], style="line"),
                                         figures.series("tangent at ±1", x, tangents(x, f), style="line")],
                                        title=FUNCTIONS[f][2], xlabel="x", ylabel="f(x)",
                                        ylim=(float(fn(x).min()) - 0.5, float(fn(x).max()) + 0.5),
                                        vspans=[{"x0": -1, "x1": 1, "label": "training range"}]))
        return Table("ReLU fits outside the training range [-1, 1]", ["function", *OUTSIDE_FIT_COLUMNS], rows, caption=(
            "Slopes are those of a line through the fit on [-3, -1.5] and [1.5, 3]; f'(±1) is the slope linear "
            "extrapolation from the edge of the training range would have.")), panels

    def figures(self, traj: Trajectory, truth: np.ndarray, preds: dict[str, np.ndarray], m: Metrics,
                fn_panels: list[dict]) -> list[Figure]:
        cfg, lim, panels, window = self.config, 1.6 * float(np.abs(truth).max()), [], (("in", "≤"), ("out", ">"))
        for i in range(cfg.num_oscillators):
            series = [figures.series("truth", traj.t, truth[:, i], style="line")]
            for arm, pred in ((a, p) for a, p in preds.items() if a != "reduced" or i < cfg.num_modeled):
                k = 6 if arm == "physics" else 1  # dots, so the truth stays visible under them
                series.append(figures.series(ARMS[arm], traj.t[::k], pred[::k, i], style="points" if k > 1 else "line"))
            panels.append(figures.lines(series, title=f"oscillator {i + 1}", xlabel="time", ylabel="angle (rad)",
                                        ylim=(-lim, lim), vspans=[{"x0": 0.0, "x1": cfg.t_train,
                                                                   "label": "training window"}]))
        errors = figures.bars(list(ARMS.values()), [{"label": f"{w}side (t {op} {cfg.t_train:g})", "values": [
            m[f"rel_{w}_{a}"].value for a in ARMS]} for w, op in window], ylabel="RMSE / RMS of the true angles",
            ylim=(0, 2))
        return [Figure("trajectories", "Coupled pendulums: truth vs each model", panels, caption=(
            f"Every model sees only t ≤ {cfg.t_train:g} (shaded). The LSTM runs free after {cfg.warmup:g} time "
            f"unit(s) inside the window and from the true angles at t = {cfg.t_train:g} outside; the physics models "
            "are simulated from their fitted initial state (the full one drawn as dots). Curves leaving the frame "
            "are clipped.")),
            Figure("errors", "Relative error by model", [errors], caption=(
                "1 is the error of predicting zero; bars taller than 2 are cut (the numbers are in the metrics). The "
                "model with too few oscillators is scored on the oscillators it models.")),
            Figure("functions", "ReLU MLPs fitted on [-1, 1], evaluated on [-3, 3]", fn_panels, caption=(
                "Outside the training range each fit continues as a straight line; \"tangent at ±1\": the tangent "
                "line at the edge, which is what linear extrapolation from the training range would give."))]

    def judge(self, m: MetricValues) -> Verdict:
        nets, straight = ("lstm", "mlp"), [m[f"fn_straight_{f}"] for f in self.config.functions]
        parts = {
            "interpolate": every(at_most(m[f"rel_in_{a}"], 0.2) for a in nets),
            "fail": every(at_least(m[f"rel_out_{a}"], 0.5) for a in nets),
            "physics": every([at_most(m["rel_out_physics"], 0.1), at_most(m["param_error"], 0.05)]),
            "partial": every(at_least(m[f"rel_out_{a}"], m["rel_out_reduced"], noise=0.0) for a in nets),
            "linear": every(at_least(v, 0.99) for v in straight),
        }
        arms = "; ".join(f"{a} {fmt(m[f'rel_in_{a}'], '.2f')} -> {fmt(m[f'rel_out_{a}'], '.2f')}" for a in ARMS)
        text = (f"Relative error inside -> outside the window: {arms}; fitted parameters within "
                f"{fmt(m['param_error'], '.1%')} of the truth; 1-D ReLU fits outside [-1, 1] have R^2 >= "
                f"{fmt(None if None in straight else min(straight), '.3f')} to a line")
        return Verdict.combine(parts, text, decisive=("fail", "physics"))
