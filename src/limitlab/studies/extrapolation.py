"""Extrapolation: flexible networks fit their training window and fail outside it; physics does not.

Sources: 001 (coupled pendulums, "grandfather clocks coupled by air": an LSTM "is perfectly able to match the first
ten time units" and completely fails when extrapolating, while a model with the true physics, even with too few
oscillators, keeps partial track), 003 (deep nets generalize locally). LSTM: Hochreiter & Schmidhuber 1997. ReLU
networks extrapolate linearly: Xu et al., How neural networks extrapolate, ICLR 2021, arXiv:2009.11848.

Protocol: a chain of `num_oscillators` pendulums coupled by springs (`data.dynamics`, SciPy DOP853), parameters and
initial angles seeded, observed every `dt` on [0, t_test]; every model sees only [0, t_train]. Arms
(`models.window_fits`), each initialized from its own stream: an LSTM predicting the next velocity from the angles so
far (trained teacher-forced on windows of `lstm_window` steps, `lstm_epochs` epochs), rolled out autoregressively
(inside the window after a warm-up of `warmup` time units of true angles, outside from the true angles up to t_train);
an MLP of time (ReLU); the physics model (the right equations, unknown parameters and initial velocities, fitted by
least squares: `dynamics.fit_system`); the same physics with only the first `num_modeled` oscillators (the notes'
orange curve). Outside the window every forecast starts from the observations up to t_train, as the LSTM's does: the
physics models from the angles at t_train and velocities estimated from them (`dynamics.synced_run`), so a tracking
time is the valid prediction time of a synchronized start (Pathak et al., PRL 2018), not a whole-window fit's misfit
at its end. Errors: relative RMSE (over the RMS of the true angles there: 1 = predicting 0); the LSTM's fit to its
training windows (relative RMSE of its next-velocity predictions given the true angles); the time each forecast keeps
track after t_train (`oscillator_scores.tracking_time`: until its error first exceeds half the RMS of the true
angles). 1-D: independent ReLU MLPs fitted on [-1, 1] to each of `functions`, evaluated on [-6, 6]; how straight each
fit is on 3 <= |x| <= 6 (R^2 of a line, the fit's variance there floored at its variance on [-1, 1]:
`functions.straightness`, as R^2 is 0/0 for a flat line) and its slope vs the edge's tangent.

Verdict: "interpolate" = both networks fit their training window: relative error <= 0.2 for the MLP of time's angles
inside it and for the LSTM's teacher-forced predictions on its training windows after their first `warmup` (what
"matches the first ten time units" measures; its free run inside the window is reported, not judged); "fail" = both
networks' relative error outside is >= 0.5; "physics" = the physics model's relative error outside is <= 0.1 and its
fitted frequencies and springs are within 5% of the true ones; "partial" = the model with too few oscillators keeps
track of its oscillators more than twice as long after t_train as either network; "linear" = every 1-D fit's
straightness is >= 0.99 on both far sides (Xu et al.'s linear extrapolation is asymptotic: a fit may bend just outside
[-1, 1]). The claim holds if all five hold; it fails if "fail" or "physics" does not (a network extrapolated, or the
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
from limitlab.data.dynamics import Trajectory, fit_system, random_system, simulate, synced_run, trajectory
from limitlab.data.functions import FUNCTIONS, OUTSIDE_FIT_COLUMNS, fit_panel, outside_fit, rms
from limitlab.data.oscillator_scores import param_errors, param_table, tracking_error, tracking_time
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
    lstm_epochs: int = 300  # until it fits its training windows (after warm-up) to a few percent
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
        check(round(self.warmup / self.dt) < self.lstm_window < self.t_train / self.dt,
              f"warmup={self.warmup}, lstm_window={self.lstm_window}; expected warmup/dt < lstm_window < t_train/dt")


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
        free, fit_in = fit_rollout(lstm, traj, dt=cfg.dt, window=cfg.lstm_window, warmup=round(cfg.warmup / cfg.dt),
                                   config=train_config(epochs=cfg.lstm_epochs, batch_size=32), ctx=ctx)
        m.add("fit_in_lstm", fit_in, "fraction", "LSTM: relative RMSE of teacher-forced predictions on its windows")
        preds = {"lstm": free, "mlp": fit_time_mlp(mlp, traj, ctx=ctx, config=train_config(
            epochs=cfg.mlp_epochs, batch_size=int(traj.train.sum())))}
        modeled = {"physics": slice(None), "reduced": slice(0, cfg.num_modeled)}  # the oscillators each models
        fits = {a: fit_system(traj.t[traj.train], traj.q[traj.train][:, cols]) for a, cols in modeled.items()}
        preds.update({a: synced_run(f, traj.t, traj.q[:, modeled[a]], int(traj.train.sum())) for a, f in fits.items()})
        for arm, pred in preds.items():
            cols, inside = modeled.get(arm, slice(None)), traj.train & (traj.t > cfg.warmup + 1e-9)
            for where, mask, label in (("in", inside, "inside the training window"), ("out", traj.test, "outside it")):
                err = rms(pred[mask] - truth[mask][:, cols])
                m.add(f"rmse_{where}_{arm}", err, "radians", f"RMSE of {ARMS[arm]} {label}")
                m.add(f"rel_{where}_{arm}", err / rms(truth[mask][:, cols]), "fraction",
                      f"RMSE / RMS of the true angles, {ARMS[arm]}, {label}")
            m.add(f"track_{arm}", tracking_time(traj.t, pred, truth[:, cols], start=cfg.t_train), "time",
                  f"how long after t_train {ARMS[arm]} keeps its error below half the RMS of the true angles")
        param_error, damping_error = param_errors(system, fits["physics"][0])
        m.add("param_error", param_error, "fraction", "largest relative error of the fitted frequencies and springs")
        m.add("damping_error", damping_error, "1/time", "absolute error of the fitted damping")
        fn_table, fn_panels = self.one_dimensional(ctx, m)
        return self.result(ctx, metrics=m, figures=self.figures(traj, truth, preds, fn_panels),
                           tables=[param_table(system, fits["physics"][0], fits["reduced"][0]), fn_table])

    def one_dimensional(self, ctx: Context, m: Metrics) -> tuple[Table, list[dict]]:
        """ReLU MLPs fitted on [-1, 1] to each function, evaluated on [-6, 6]."""
        cfg, x = self.config, np.linspace(-6, 6, 1201)
        with ctx.seeded_torch("init", "functions"):
            model = GroupedMLP(num_groups=len(cfg.functions), hidden=cfg.fn_hidden)
        fx = fit_functions(model, cfg.functions, x, config=train_config(epochs=cfg.fn_epochs, batch_size=256), ctx=ctx)
        table = Table("ReLU fits outside the training range [-1, 1]", ["function", *OUTSIDE_FIT_COLUMNS], [], caption=(
            "Slopes are those of a line through the fit on [-6, -3] and [3, 6]; f'(±1) is the slope linear "
            "extrapolation from the edge of the training range would have."))
        for k, f in enumerate(cfg.functions):
            e = outside_fit(x, fx[:, k], f, far=3)
            for where, span in (("in", "on [-1, 1]"), ("out", "outside [-1, 1] (up to |x| = 6)")):
                m.add(f"fn_rmse_{where}_{f}", e[f"rmse_{where}"], "", f"RMSE of the ReLU fit to {f} {span}")
            m.add(f"fn_straight_{f}", min(e["r2_left"], e["r2_right"]), "R^2", f"how straight the fit to {f} is "
                  "on 3 <= |x| <= 6: R^2 of a line (variance floored at the fit's on [-1, 1]), worse side")
            table.rows.append([f, *e.values()])
        return table, [fit_panel(x, fx[:, k], f) for k, f in enumerate(cfg.functions)]

    def figures(self, traj: Trajectory, truth: np.ndarray, preds: dict[str, np.ndarray], fn_panels: list[dict]
                ) -> list[Figure]:
        cfg, lim, panels = self.config, 1.6 * float(np.abs(truth).max()), []
        for i in range(cfg.num_oscillators):
            series = [figures.series("truth", traj.t, truth[:, i], style="line")]
            for arm, pred in ((a, p) for a, p in preds.items() if a != "reduced" or i < cfg.num_modeled):
                k = 6 if arm == "physics" else 1  # dots, so the truth stays visible under them
                series.append(figures.series(ARMS[arm], traj.t[::k], pred[::k, i], style="points" if k > 1 else "line"))
            panels.append(figures.lines(series, title=f"oscillator {i + 1}", xlabel="time", ylabel="angle (rad)",
                                        ylim=(-lim, lim), vspans=[{"x0": 0.0, "x1": cfg.t_train,
                                                                   "label": "training window"}]))
        errors = [tracking_error(traj.t, p, truth[:, :p.shape[1]], start=cfg.t_train) for p in preds.values()]
        curves = figures.lines([figures.series(ARMS[a], t, np.clip(e, 1e-3, 10), style="line")
                                for a, (t, e) in zip(preds, errors)], xlabel="time", yscale="log", ylim=(1e-3, 10),
                               ylabel="error / RMS of the true angles", hlines=[{"y": 0.5, "label": "tracking lost"}])
        return [Figure("trajectories", "Coupled pendulums: truth vs each model", panels, caption=(
            f"Every model sees only t ≤ {cfg.t_train:g} (shaded). The LSTM runs free after {cfg.warmup:g} time unit(s) "
            f"inside the window and from the true angles at t = {cfg.t_train:g} outside; the physics models (the full "
            f"one as dots) from their fitted start inside, from the state observed at t = {cfg.t_train:g} outside.")),
            Figure("tracking", "Keeping track after the training window", [curves], caption=(
                f"Error of each forecast after t = {cfg.t_train:g}, over the RMS of the true angles (1: no better than "
                "predicting 0; clipped to [1e-3, 10]). The model with too few oscillators is scored on its own.")),
            Figure("functions", "ReLU MLPs fitted on [-1, 1], evaluated on [-6, 6]", fn_panels, caption=(
                "Outside the training range each fit continues as a straight line; \"tangent at ±1\": the tangent "
                "line at the edge, which is what linear extrapolation from the training range would give."))]

    def judge(self, m: MetricValues) -> Verdict:
        nets, straight = ("lstm", "mlp"), [m[f"fn_straight_{f}"] for f in self.config.functions]
        kept = [t for a in nets if (t := m[f"track_{a}"]) is not None]  # how long each net kept track, if measured
        parts = {"interpolate": every([at_most(m["fit_in_lstm"], 0.2), at_most(m["rel_in_mlp"], 0.2)]),
                 "fail": every(at_least(m[f"rel_out_{a}"], 0.5) for a in nets),
                 "physics": every([at_most(m["rel_out_physics"], 0.1), at_most(m["param_error"], 0.05)]),
                 "partial": at_least(m["track_reduced"], 2 * max(kept) if len(kept) == len(nets) else None, noise=0.0),
                 "linear": every(at_least(v, 0.99) for v in straight)}
        arms = "; ".join(f"{a} {fmt(m[f'rel_in_{a}'], '.2f')} -> {fmt(m[f'rel_out_{a}'], '.2f')} "
                         f"(tracks {fmt(m[f'track_{a}'], '.1f')})" for a in ARMS)
        text = (f"Relative error inside -> outside the window (time each keeps track after it): {arms}; the LSTM fits "
                f"its training windows to {fmt(m['fit_in_lstm'], '.2f')}; fitted parameters within "
                f"{fmt(m['param_error'], '.1%')} of the truth; 1-D ReLU fits far outside [-1, 1] have R^2 >= "
                f"{fmt(None if None in straight else min(v for v in straight if v is not None), '.3f')} to a line")
        return Verdict.combine(parts, text, decisive=("fail", "physics"))
