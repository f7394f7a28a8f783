"""Pre-flight checks: can this model's evaluation be trusted, before any attack or score is computed?

Anchors: AutoAttack's `checks.py` (Croce, Hein. ICML 2020): outputs that look like probabilities, a
randomized forward pass (outputs of repeated passes differ), points with zero gradient; ART's
`loss_gradient_check` (Nicolae et al. 2018, arXiv:1807.01069): inputs whose loss gradient is zero,
NaN or infinite. Here also: the forward pass changing with the order of the batch (a model that
normalizes over its batch), modules left in train mode (the audit measures in eval mode, as deployed),
the classes the labels use, and how much of its bounds each feature's data covers. Each check is
computed once per subject (`Subject.once`); every section reads the ones its verdict depends on.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

from limitlab._modelstate import frozen
from limitlab.audit.outputs import Adapted
from limitlab.audit.subject import Subject

SAMPLE = 256  # inputs for the determinism check: AutoAttack's check_randomized uses a few hundred
REL_TOL = 1e-4  # a pass "differs" when an output moves by more than this, relative to the row's scale
NARROW = 0.25  # a feature whose data covers less than this share of its bounds' width
MAX_BAD_GRADIENTS = 0.01  # more inputs than this with a zero / NaN loss gradient is a problem (AutoAttack: any)


@torch.no_grad()
def _nondeterministic(module: Adapted, x: Tensor) -> float:
    half = max(1, len(x) // 2)
    with frozen(module):  # the model's own outputs: a log of an underflowing probability would amplify 1 ulp
        f = lambda v: module.outputs(v).reshape(len(v), -1)  # noqa: E731
        first = f(x)
        again, reversed_, alone = f(x), f(x.flip(0)).flip(0), f(x[:half])  # the same, reordered, smaller
    scale = first.abs().amax(1).clamp_min(1.0)
    moved = torch.maximum((again - first).abs().amax(1), (reversed_ - first).abs().amax(1))
    moved[:half] = torch.maximum(moved[:half], (alone - first[:half]).abs().amax(1))
    return float((moved > REL_TOL * scale).float().mean())


def nondeterministic_share(s: Subject) -> float:
    """Share of (up to `SAMPLE`) inputs whose eval-mode output changes between two passes, with the batch
    reversed, or in a batch of half the size (a model that normalizes over its batch)."""
    return s.once("nondeterministic", lambda: _nondeterministic(s.raw, s.x[:SAMPLE]))


def _gradients(module: nn.Module, u: Tensor, y: Tensor, batch: int) -> dict[str, float]:
    zero, bad = [], []
    with frozen(module), torch.enable_grad():
        for i in range(0, len(u), batch):
            ui = u[i:i + batch].detach().requires_grad_(True)
            loss = F.cross_entropy(module(ui), y[i:i + batch], reduction="sum")
            if not loss.requires_grad:  # the output does not depend on the input through autograd at all
                return {"zero": 1.0, "nan": 0.0, "path": 0.0}
            (g,) = torch.autograd.grad(loss, ui, allow_unused=True)
            if g is None:
                return {"zero": 1.0, "nan": 0.0, "path": 0.0}
            g = g.flatten(1)
            bad.append(~torch.isfinite(g).all(1))
            zero.append((g == 0).all(1) & ~bad[-1])
    return {"zero": float(torch.cat(zero).float().mean()), "nan": float(torch.cat(bad).float().mean()), "path": 1.0}


def gradient_health(s: Subject) -> dict[str, float]:
    """{"zero": share of inputs whose loss gradient is exactly 0, "nan": share with a NaN/Inf entry,
    "path": 1.0 if the loss depends on the input through autograd at all, else 0.0} (ART's three
    conditions, per input, on the cross-entropy the attacks ascend)."""
    return s.once("gradients", lambda: _gradients(s.unit, s.u, s.y, s.batch_size))


def train_mode_modules(model: nn.Module) -> list[str]:
    """Modules that behave differently in train mode (dropout, batch norm) and were handed over in it."""
    return [type(m).__name__ for m in model.modules() if m.training and isinstance(m, (_DropoutNd, _BatchNorm))]


def narrow_share(s: Subject) -> float:
    """Share of features (channels, for images) whose data range covers < `NARROW` of their bounds' width:
    eps is a fraction of the width, so for them it is far larger relative to the data's own spread."""
    def compute() -> float:
        groups = (0, 2, 3) if s.x.dim() == 4 else (0,) if s.x.dim() == 2 else tuple(range(s.x.dim()))
        seen = s.x.amax(dim=groups) - s.x.amin(dim=groups)
        lo, hi = s.bounds.lo.expand(s.x.shape[1:]), s.bounds.hi.expand(s.x.shape[1:])
        inner = tuple(g - 1 for g in groups if g > 0)
        width = hi.amax(dim=inner) - lo.amin(dim=inner) if inner else hi - lo
        return float((seen < NARROW * width).float().mean())
    return s.once("narrow", compute)
