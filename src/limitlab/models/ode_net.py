"""An ODE network: the residual stack's limit, dz/dt = f(z, t), solved with torchdiffeq.

Chen, Rubanova, Bettencourt, Duvenaud. Neural ordinary differential equations. NeurIPS 2018,
arXiv:1806.07366. A residual block z + (1/L) f(z) is one Euler step of that ODE (source 004); the
adjoint method (`odeint_adjoint`) gets the gradient by solving a second ODE backwards in time,
so training stores no activations per step. `adjoint=False` backpropagates through the solver's
operations (`odeint`), the control.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from limitlab.config import check
from limitlab.models.layers import activation

FIXED = ("euler", "midpoint", "rk4")
ADAPTIVE = ("dopri5", "bosh3", "adaptive_heun")


class ODEFunc(nn.Module):
    """f(z, t) = W2 [act(W1 [z, t]), t]: two linear layers, time as an extra input; counts its calls."""

    def __init__(self, width: int, act: str = "tanh") -> None:
        super().__init__()
        self.linear1, self.act, self.linear2 = nn.Linear(width + 1, width), activation(act), nn.Linear(width + 1, width)
        self.nfe = 0  # function evaluations since the last reset (forward and adjoint backward)

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        time = t.to(z.dtype).expand(z.shape[0], 1)
        return self.linear2(torch.cat([self.act(self.linear1(torch.cat([z, time], 1))), time], 1))


class UniformGrid:
    """torchdiffeq grid constructor: `num_steps` equal steps from t[0] to t[-1] (exactly, no rounding)."""

    def __init__(self, num_steps: int) -> None:
        self.num_steps = num_steps

    def __call__(self, func, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.linspace(float(t[0]), float(t[-1]), self.num_steps + 1, dtype=t.dtype, device=t.device)


class ODEBlock(nn.Module):
    """z(1) from z(0) by a fixed-step (`num_steps` steps) or adaptive (`rtol`, `atol`) solver."""

    def __init__(self, func: ODEFunc, *, method: str = "euler", num_steps: int = 8, adjoint: bool = True,
                 rtol: float = 1e-3, atol: float = 1e-3) -> None:
        super().__init__()
        check(method in FIXED + ADAPTIVE, f"method={method!r}; expected one of {', '.join(FIXED + ADAPTIVE)}")
        check(num_steps >= 1, f"num_steps={num_steps}; expected >= 1")
        self.func, self.method, self.num_steps, self.adjoint = func, method, num_steps, adjoint
        self.rtol, self.atol = rtol, atol

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        t = torch.tensor([0.0, 1.0], dtype=z.dtype)
        options = {"grid_constructor": UniformGrid(self.num_steps)} if self.method in FIXED else {}
        if self.adjoint:
            out = odeint_adjoint(self.func, z, t, rtol=self.rtol, atol=self.atol, method=self.method,
                                 options=options, adjoint_params=tuple(self.func.parameters()))
        else:
            out = odeint(self.func, z, t, rtol=self.rtol, atol=self.atol, method=self.method, options=options)
        return out[-1]

    def extra_repr(self) -> str:
        steps = f"num_steps={self.num_steps}" if self.method in FIXED else f"rtol={self.rtol}, atol={self.atol}"
        return f"method={self.method}, {steps}, adjoint={self.adjoint}"


def ode_net(*, in_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10, width: int = 32, act: str = "tanh",
            method: str = "euler", num_steps: int = 8, adjoint: bool = True, rtol: float = 1e-3,
            atol: float = 1e-3) -> nn.Sequential:
    """Flatten, Linear to `width`, act, an ODE block, Linear to the classes."""
    in_features = 1
    for d in in_shape:
        in_features *= d
    block = ODEBlock(ODEFunc(width, act), method=method, num_steps=num_steps, adjoint=adjoint, rtol=rtol, atol=atol)
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), activation(act), block,
                         nn.Linear(width, num_classes))
