"""Neural ODEs: the adjoint method trains a continuous-depth network in memory independent of its steps.

Chen, Rubanova, Bettencourt, Duvenaud. Neural ordinary differential equations. NeurIPS 2018. Source 004: a residual
network z_{l+1} = z_l + f(z_l, theta_l) is an Euler step of dz/dt = f(z(t), t); the ODE network solves that ODE instead;
backprop through L blocks stores O(L) activations, the adjoint method solves a second ODE backwards: O(1).

Protocol: digits classifiers of width `width`, the arms of `limitlab.models.ode_arms`: (a) a residual stack of L blocks
z + (1/L) act(W2 act(W1 z)), (b) an ODE block f(z, t) solved by torchdiffeq with L Euler steps, differentiated by
backpropagating through the solver (`odeint`, the control), (c) the same with `odeint_adjoint`, (d) an adaptive solver
(`adaptive_method`, tolerance `tol`) with the adjoint. For every L in `steps`: the bytes autograd saves for backward in
one forward pass of `memory_batch` digits, counted exactly (`limitlab.gradients.saved_tensor_bytes`: distinct storages,
parameters excluded). At L = `train_steps` the four models are trained (Adam, fixed epochs) and compared on test
accuracy, parameters and function evaluations (NFE) per forward and backward pass; `replicas` residual stacks and
adjoint ODEs (the first of each is the table's) on the 720 held-out digits (validation + test: no model here stops
early); the adjoint's gradient is compared with the directly backpropagated one at initialization.

Verdict: "linear" = for the residual stack and the direct ODE, saved bytes grow with L and lie within 5% (of the largest
value) of the straight line through the smallest and largest L; "flat" = for the adjoint ODE, the largest saved bytes
over L are <= 1.05 x the smallest; "accuracy" = the adjoint ODEs' mean held-out accuracy is within 0.03 of the residual
stacks' (Chen et al.: 0.42% vs 0.41% test error on MNIST) by more than the larger of two floors, two standard errors
each: of the per-digit paired difference of the arms' mean correctness, and of the difference of their means over
replicas. The claim holds if all three hold, fails if "flat" or "linear" does not, else inconclusive.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf, check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.digits import digits_heldout
from limitlab.figures import Figure  # its re-export: with the names below, the line would pass 120 columns
from limitlab.gradients.step_memory import line_deviation, step_memory
from limitlab.models import TrainConfig, correct, evaluate, fit
from limitlab.models.layers import ACTIVATIONS
from limitlab.models.ode_arms import ARMS, LABELS, make
from limitlab.models.ode_net import ADAPTIVE
from limitlab.result import Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, decided, every, fmt
from limitlab.studies._rules import margin, means_noise, paired_noise
from limitlab.study import Study, register


@dataclass(frozen=True)
class NeuralODEConfig(Checked):
    constraints: ClassVar = {"steps": Each(Interval(1), min_len=2, unique=True), "width": Interval(1),
                             "act": OneOf(tuple(ACTIVATIONS)), "memory_batch": Interval(1, 1077),
                             "train_steps": Interval(1), "adaptive_method": OneOf(ADAPTIVE),
                             "tol": Interval(0, 1, closed="neither"), "epochs": Interval(1),
                             "lr": Interval(0, closed="neither"), "replicas": Interval(2)}
    steps: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    width: int = 32
    act: str = "tanh"
    memory_batch: int = 64  # training digits whose saved bytes are counted
    train_steps: int = 8
    adaptive_method: str = "dopri5"
    tol: float = 1e-3
    epochs: int = 10
    lr: float = 3e-3
    replicas: int = 4  # residual stacks and adjoint ODEs behind the "accuracy" part (a mean over models)

    def validate(self) -> None:
        check(list(self.steps) == sorted(self.steps), f"steps={list(self.steps)}; expected increasing values")


@register("neural-ode", chapter="representation", sources=("004",))
class NeuralODE(Study[NeuralODEConfig]):
    """Residual stacks vs ODE networks with the adjoint method (Chen et al. 2018). Sources: 004."""

    claim = ("An ODE network replaces L residual blocks with an ODE solve; training it with the adjoint method needs "
             "memory independent of the number of solver steps, where backprop through a ResNet stores activations "
             "for every block.")
    Config = NeuralODEConfig
    presets = {
        "tiny": {"steps": (1, 4, 16), "width": 16, "memory_batch": 16, "train_steps": 2, "epochs": 1, "tol": 1e-2,
                 "replicas": 2},
        "full": {"steps": (1, 2, 4, 8, 16, 32, 64, 128), "width": 64, "train_steps": 16, "epochs": 30},
    }

    def run(self, ctx: Context) -> Result:
        cfg, data, m = self.config, digits(), Metrics()
        # a copy: a slice would share (and be charged for) the whole training set's storage
        x, y = data.train.x[:cfg.memory_batch].clone(), data.train.y[:cfg.memory_batch]
        mem: dict[str, list[int]] = {arm: [] for arm in ARMS[:3]}
        for num_steps in ctx.progress.track(cfg.steps, description="saved bytes vs L"):
            for arm in mem:
                with ctx.seeded_torch("init", arm, num_steps):  # the weights do not change the bytes; seeded anyway
                    model = make(arm, num_steps, cfg)
                mem[arm].append(step_memory(model, x, y)[0])
        lo, hi = cfg.steps[0], cfg.steps[-1]
        for arm, values in mem.items():
            key, label = arm.replace("-", "_"), LABELS[arm]
            m.add(f"bytes_{key}_min_L", values[0], "bytes", f"saved for backward at L={lo}, {label}")
            m.add(f"bytes_{key}_max_L", values[-1], "bytes", f"saved for backward at L={hi}, {label}")
            m.add(f"bytes_per_step_{key}", (values[-1] - values[0]) / (hi - lo), "bytes/step", f"growth per L, {label}")
            m.add(f"line_deviation_{key}", line_deviation(list(cfg.steps), values), "fraction",
                  f"max distance from the straight line / max bytes, {label}")
            m.add(f"max_over_min_{key}", max(values) / min(values), "x", f"largest / smallest saved bytes, {label}")
        m.add("adjoint_grad_rel_diff", self.adjoint_vs_direct(ctx, x, y), "relative",
              f"|grad adjoint - grad direct| / |grad direct| at init, L={cfg.train_steps}")
        rows = self.train_all(ctx, x, y, m)
        table = Table(f"Trained at L = {cfg.train_steps} ({cfg.epochs} epochs)",
                      ["model", "test accuracy", "parameters", "NFE forward", "NFE backward", "saved bytes"], rows,
                      caption="NFE: evaluations of the ODE function f per pass (a residual stack has none). Saved "
                              f"bytes for a batch of {cfg.memory_batch}, parameters excluded.")
        return self.result(ctx, metrics=m, figures=self.figures(mem, m.view()), tables=[table])

    def adjoint_vs_direct(self, ctx: Context, x: torch.Tensor, y: torch.Tensor) -> float:
        """The adjoint's gradient against backprop through the same Euler steps (same weights)."""
        with ctx.seeded_torch("init", "ode-direct", self.config.train_steps):
            direct = make("ode-direct", self.config.train_steps, self.config)
        adjoint = make("ode-adjoint", self.config.train_steps, self.config)  # the same weights, loaded below
        adjoint.load_state_dict(direct.state_dict())
        grads = [torch.cat([g.flatten() for g in torch.autograd.grad(F.cross_entropy(m(x), y), list(m.parameters()))])
                 for m in (direct, adjoint)]
        return float((grads[1] - grads[0]).norm() / grads[0].norm())

    def trained(self, ctx: Context, arm: str, replica: int = 0) -> nn.Module:
        """Arm `arm` at L = `train_steps`, trained for a fixed number of epochs (replica k > 0: its own init)."""
        cfg = self.config
        with ctx.seeded_torch("init", arm, cfg.train_steps, *([replica] if replica else [])):
            model = make(arm, cfg.train_steps, cfg)
        fit(model, digits().train, ctx=ctx, description=f"train {arm} #{replica}",
            config=TrainConfig(epochs=cfg.epochs, lr=cfg.lr, patience=None, eval_train=False))
        return model

    def accuracy_gap(self, ctx: Context, first: dict[str, nn.Module], m: Metrics) -> None:
        """The rule's gap: the adjoint ODEs' mean held-out accuracy minus the residual stacks', over `replicas` of each
        (`first` holds replica 0), with the larger of its digits' and its replicas' noise floors."""
        held, arms, n = digits_heldout(), ("ode-adjoint", "resnet"), self.config.replicas
        more = {job: self.trained(ctx, *job) for job in ctx.progress.track(
            [(arm, k) for arm in arms for k in range(1, n)], description="replicas")}
        a, b = (torch.stack([correct(more.get((arm, k), first[arm]), held.x, held.y) for k in range(n)])
                for arm in arms)
        floors = [f for f in (paired_noise(a.mean(0), b.mean(0)), means_noise(a.mean(1), b.mean(1))) if f is not None]
        m.add("acc_gap_adjoint", float(a.mean() - b.mean()), "fraction", f"mean held-out accuracy over {n} models, "
              "ODE adjoint minus residual stack", noise=max(floors, default=None))

    def train_all(self, ctx: Context, x: torch.Tensor, y: torch.Tensor, m: Metrics) -> list[list]:
        rows, first = [], {}
        for arm in ctx.progress.track(ARMS, description="training"):
            model = first[arm] = self.trained(ctx, arm)
            acc, params = evaluate(model, digits().test)[1], sum(p.numel() for p in model.parameters())
            bytes_, nfe_f, nfe_b = step_memory(model, x, y)
            key, label, ode = arm.replace("-", "_"), LABELS[arm], arm != "resnet"
            m.add(f"test_acc_{key}", acc, "fraction", f"test accuracy, {label}")
            m.add(f"params_{key}", params, "count", f"parameters, {label}")
            if ode:
                m.add(f"nfe_forward_{key}", nfe_f, "count", f"f evaluations per forward pass, {label}")
                m.add(f"nfe_backward_{key}", nfe_b, "count", f"f evaluations per backward pass, {label}")
            if arm == "ode-adaptive":
                m.add("bytes_ode_adaptive", bytes_, "bytes", f"saved for backward, {label}, trained")
            rows.append([label, f"{acc:.1%}", params, nfe_f if ode else "-", nfe_b if ode else "-", bytes_])
        self.accuracy_gap(ctx, first, m)
        return rows

    def figures(self, mem: dict[str, list[int]], m: MetricValues) -> list[Figure]:
        cfg = self.config
        kib = [figures.series(LABELS[arm], cfg.steps, [v / 1024 for v in values]) for arm, values in mem.items()]
        memory = Figure("memory", "Memory saved for backward vs depth", [
            figures.lines(kib, title=f"batch of {cfg.memory_batch}, width {cfg.width}",
                          xlabel="L (blocks / Euler steps)", ylabel="KiB saved for backward",
                          hlines=[{"y": b / 1024, "label": f"adaptive {cfg.adaptive_method} + adjoint (trained)"}
                                  for b in [m["bytes_ode_adaptive"]] if b is not None]),
            figures.lines(kib, title="same, log-log", xlabel="L", ylabel="KiB", xscale="log", yscale="log"),
        ], caption="Bytes autograd keeps for the backward pass, counted exactly with saved_tensors_hooks (parameters "
                   "excluded). Backprop stores every block's activations; the adjoint stores the ODE's end state only.")
        names, keys = [LABELS[a] for a in ARMS], [a.replace("-", "_") for a in ARMS]
        accuracy = Figure("accuracy", f"Trained at L = {cfg.train_steps}", [
            figures.bars(names, [{"label": "test accuracy", "values": [m[f"test_acc_{k}"] for k in keys]}],
                         title="test accuracy", ylabel="accuracy", ylim=(0, 1.05)),
            figures.bars(names, [{"label": "parameters", "values": [m[f"params_{k}"] for k in keys]}],
                         title="parameters", ylabel="count"),
        ], caption="Similar accuracy; the ODE's parameters do not grow with the number of steps.")
        return [memory, accuracy]

    def judge(self, m: MetricValues) -> Verdict:
        grows = [every([at_least(m[f"bytes_per_step_{k}"], 0, noise=0), at_most(m[f"line_deviation_{k}"], 0.05)])
                 for k in ("resnet", "ode_direct")]
        adj, res, gap, floor = (m["test_acc_ode_adjoint"], m["test_acc_resnet"], m["acc_gap_adjoint"],
                                margin(m, "acc_gap_adjoint"))
        parts = {"linear": every(grows), "flat": at_most(m["max_over_min_ode_adjoint"], 1.05), "accuracy": every(
            [decided(gap, -0.03, noise=floor), decided(gap, 0.03, noise=floor, above=False)])}
        b = {k: fmt(m[f"bytes_{k}"], ".0f") for k in ("resnet_min_L", "resnet_max_L", "ode_direct_min_L",
                                                        "ode_direct_max_L", "ode_adjoint_min_L", "ode_adjoint_max_L")}
        cfg = self.config
        text = (f"From L={cfg.steps[0]} to L={cfg.steps[-1]}, saved bytes go {b['resnet_min_L']} -> "
                f"{b['resnet_max_L']} for the residual stack, {b['ode_direct_min_L']} -> {b['ode_direct_max_L']} "
                f"backpropagating through the solver, {b['ode_adjoint_min_L']} -> {b['ode_adjoint_max_L']} with the "
                f"adjoint; test accuracy at L={cfg.train_steps}: residual {fmt(res, '.1%')}, ODE adjoint "
                f"{fmt(adj, '.1%')}, direct {fmt(m['test_acc_ode_direct'], '.1%')}, adaptive "
                f"{fmt(m['test_acc_ode_adaptive'], '.1%')} ({fmt(m['nfe_forward_ode_adaptive'], '.0f')} NFE forward); "
                f"over {cfg.replicas} models of each, the adjoint ODEs' mean held-out accuracy minus the residual "
                f"stacks' is {fmt(gap, '+.1%')} +- {fmt(floor, '.1%')} (within 0.03 asked)")
        return Verdict.combine(parts, text, decisive=("linear", "flat"))
