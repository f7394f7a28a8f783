"""The neural-ode study's four arms at L steps: a residual stack of L blocks z + (1/L) f(z), and an ODE block
dz/dt = f(z, t) solved with L Euler steps (backpropagating through the solver, or with the adjoint) or with an
adaptive solver and the adjoint. Chen, Rubanova, Bettencourt, Duvenaud. Neural ordinary differential equations.
NeurIPS 2018 (source 004)."""
from __future__ import annotations

from typing import Protocol

from torch import nn

from limitlab.models.zoo import build

ARMS = ("resnet", "ode-direct", "ode-adjoint", "ode-adaptive")
LABELS = {"resnet": "residual stack (backprop)", "ode-direct": "ODE, backprop through the solver",
          "ode-adjoint": "ODE, adjoint", "ode-adaptive": "ODE, adaptive solver, adjoint"}


class ArmOptions(Protocol):
    """What the arms are built from (the study's frozen config: read-only attributes)."""

    @property
    def width(self) -> int: ...
    @property
    def act(self) -> str: ...
    @property
    def adaptive_method(self) -> str: ...
    @property
    def tol(self) -> float: ...


def make(arm: str, num_steps: int, cfg: ArmOptions) -> nn.Module:
    """Arm `arm` (one of ARMS) with `num_steps` blocks or fixed solver steps."""
    if arm == "resnet":
        return build("resnet-mlp", width=cfg.width, depth=2 * num_steps + 2, block_depth=2, act=cfg.act,
                     residual=True, branch_scale=1.0 / num_steps)
    method = cfg.adaptive_method if arm == "ode-adaptive" else "euler"
    return build("ode-net", width=cfg.width, act=cfg.act, method=method, num_steps=num_steps,
                 adjoint=arm != "ode-direct", rtol=cfg.tol, atol=cfg.tol)
