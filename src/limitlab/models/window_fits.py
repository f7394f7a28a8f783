"""Flexible models fitted on a window (of time, or of x) and asked about the whole grid, inside and outside it.

- An autoregressive `SequenceLSTM` (Hochreiter & Schmidhuber 1997): it reads the states q_0..q_t and
  predicts the velocity that leads to the next one, (q_{t+1} - q_t) / dt; rolled out, it integrates its
  own prediction, q <- q + dt * v, from a history of true states (source 001's LSTM on coupled pendulums).
- An MLP of time: t -> q(t), with the window mapped to [-1, 1].
- Scalar functions y = f(x) fitted on [-1, 1] (one output per function, e.g. a `GroupedMLP`).
The caller builds each model (from its own seeded stream) and chooses its `TrainConfig`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from limitlab._modelstate import frozen
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.data.dynamics import Trajectory
from limitlab.data.functions import function_data
from limitlab.models.lstm import SequenceLSTM
from limitlab.models.train import TrainConfig, fit, predict_logits


def velocity_windows(q: np.ndarray, dt: float, window: int, *, name: str = "trajectory-windows") -> ArrayDataset:
    """Every run of `window` consecutive states of q (T, N), with the velocity to each next state as target."""
    vel = (q[1:] - q[:-1]) / dt
    idx = np.arange(len(q) - window)[:, None] + np.arange(window)
    return ArrayDataset(torch.tensor(q[:-1][idx], dtype=torch.float32), torch.tensor(vel[idx], dtype=torch.float32),
                        name=name, bounds=(-np.pi, np.pi))


@torch.no_grad()
def rollout(model: SequenceLSTM, history: np.ndarray, num_steps: int, dt: float) -> np.ndarray:
    """Read the true states `history` (T0, N), then run free for `num_steps`: q <- q + dt * predicted velocity."""
    with frozen(model):
        out, state = model.step(torch.as_tensor(history, dtype=torch.float32)[None])
        q = torch.as_tensor(history[-1], dtype=torch.float32) + dt * out[0, -1]
        preds = [q]
        for _ in range(num_steps - 1):
            out, state = model.step(q.view(1, 1, -1), state)
            q = q + dt * out[0, 0]
            preds.append(q)
    return torch.stack(preds).numpy().astype(float)


def fit_rollout(model: SequenceLSTM, traj: Trajectory, *, dt: float, window: int, warmup: int, config: TrainConfig,
                ctx: Context) -> tuple[np.ndarray, float]:
    """Train `model` on the windows of the training part of `traj` (sampled every `dt`). Returns its predictions
    on the whole grid (T, N): inside the window running free after `warmup` steps of true states, outside it
    running free from the true states of the whole window, NaN where it does not predict (the first `warmup` + 1
    steps); and its fit to what it was trained on: the relative error (RMS error / RMS) of its next-velocity
    predictions on its training windows, given the true states (teacher-forced), after the first `warmup` steps of
    each window (it starts each window from a fresh state: one state does not tell the velocity)."""
    q = traj.q[traj.train]
    data = velocity_windows(q, dt, window, name="oscillator-windows")
    fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description="train LSTM", config=config)
    out = np.full_like(traj.q, np.nan)
    out[warmup + 1:len(q)] = rollout(model, q[:warmup + 1], len(q) - warmup - 1, dt)
    out[len(q):] = rollout(model, q, len(traj.t) - len(q), dt)
    err, y = (predict_logits(model, data.x) - data.y)[:, warmup:], data.y[:, warmup:]
    fit_error = float(err.square().mean().sqrt() / y.square().mean().sqrt())
    return out, fit_error


def fit_time_mlp(model: nn.Module, traj: Trajectory, *, config: TrainConfig, ctx: Context) -> np.ndarray:
    """Train `model` (1 input, N outputs) on t -> q(t) over the window, t mapped to [-1, 1]; q on the whole grid."""
    s = torch.tensor(2 * traj.t / traj.t_split - 1, dtype=torch.float32)[:, None]
    data = ArrayDataset(s[torch.as_tensor(traj.train)], torch.tensor(traj.q[traj.train], dtype=torch.float32),
                        name="oscillator-times", bounds=(-1, 1))
    fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description="train MLP of time", config=config)
    return predict_logits(model, s).numpy().astype(float)


def fit_functions(model: nn.Module, names: tuple[str, ...], x: np.ndarray, *, config: TrainConfig, ctx: Context
                  ) -> np.ndarray:
    """Train `model` (1 input, one output per name) on `function_data(names)` (x in [-1, 1]); its outputs at `x`."""
    fit(model, function_data(names), ctx=ctx, loss_fn=F.mse_loss, description="fit 1-D functions", config=config)
    return predict_logits(model, torch.tensor(x[:, None], dtype=torch.float32)).numpy().astype(float)
