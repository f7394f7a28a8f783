"""What the model outputs, and the model as the probes see it: logits, in raw or unit input space.

AutoAttack's `check_range_output` (Croce, Hein. ICML 2020, arXiv:2003.01690) warns when the outputs
look like probabilities: attacks and calibration read a model's outputs as logits, and on
probabilities both go wrong (the cross-entropy of softmax(p) barely moves; ECE of softmax(p) is
the ECE of a different, nearly uniform model). Here the kind is decided from the outputs themselves
and the last module: "probabilities" if every row lies in [0, 1] and sums to 1 (within 1e-3);
"log-probabilities" if every value is <= 0 and every row's logsumexp is 0 (within 1e-3); otherwise
"logits". A single output per input is a binary model: a probability of class 1 if it lies in [0, 1]
everywhere, else a logit. The audit then measures what the model means: log p for probabilities
(log_softmax(log p) = log p, so the cross-entropy and the softmax are the model's own), log-probabilities
as they are, and (log(1 - p), log p) or (0, z) for a single output.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab.errors import IncompatibleModelError

TOL = 1e-3
TINY = 1e-45  # the smallest float32 above 0: log(0) would be -inf, and a gradient through it NaN


@dataclass(frozen=True)
class OutputKind:
    kind: str  # "logits" | "probabilities" | "log-probabilities"
    single: bool  # one output per input: a binary model's score for class 1
    last: str  # the class name of the model's last leaf module ("" if none)

    def describe(self) -> str:
        what = f"one {self.kind.removesuffix('s')} per input (binary)" if self.single else self.kind
        return f"{what}; last module {self.last or 'none'}"


def last_module(model: nn.Module) -> str:
    leaves = [m for m in model.modules() if not list(m.children())]
    return type(leaves[-1]).__name__ if leaves else ""


def detect(out: Tensor, model: nn.Module) -> OutputKind:
    """The kind of `out`, the model's outputs on a sample of inputs (N, C) or (N,) / (N, 1)."""
    o = out.detach().double().reshape(len(out), -1)
    single = o.shape[1] == 1
    in_unit = bool(((o >= 0) & (o <= 1)).all())
    if single:
        kind = "probabilities" if in_unit else "logits"
    elif in_unit and bool(((o.sum(1) - 1).abs() <= TOL).all()):
        kind = "probabilities"
    elif bool((o <= 0).all()) and bool((torch.logsumexp(o, 1).abs() <= TOL).all()):
        kind = "log-probabilities"
    else:
        kind = "logits"
    return OutputKind(kind, single, last_module(model))


def to_logits(out: Tensor, kind: OutputKind) -> Tensor:
    """The model's outputs as (N, C) logits (C >= 2), in the dtype of `out`."""
    o = out.reshape(len(out), -1)
    if kind.single:
        if kind.kind == "probabilities":
            p = o.clamp(TINY, 1.0)
            return torch.cat([torch.log1p(-p.clamp(max=1 - 1e-7)), p.log()], dim=1)
        return torch.cat([torch.zeros_like(o), o], dim=1)
    return o.clamp_min(TINY).log() if kind.kind == "probabilities" else o


class Adapted(nn.Module):
    """raw x -> logits: the declared normalization, the user's model, its outputs as logits. The model may
    live on another device (cuda): each batch goes there and its outputs come back to the inputs' device,
    through autograd, so the probes' own arithmetic stays where their tensors are."""

    mean: Tensor  # buffers, registered when a normalization is declared
    std: Tensor

    def __init__(self, model: nn.Module, kind: OutputKind, normalize: tuple[Tensor, Tensor] | None,
                 shape: tuple[int, ...], device: torch.device | None = None) -> None:
        super().__init__()
        self.model, self.kind = model, kind
        self.device = device or torch.device("cpu")
        view = (-1, *([1] * (len(shape) - 1)))  # per channel (images) or per feature (tables)
        if normalize is not None:
            self.register_buffer("mean", normalize[0].reshape(view))
            self.register_buffer("std", normalize[1].reshape(view))
        self.normalize = normalize is not None

    def outputs(self, x: Tensor) -> Tensor:
        inputs = x.to(self.device)
        if self.normalize:
            inputs = (inputs - self.mean.to(self.device)) / self.std.to(self.device)
        return self.model(inputs).to(x.device)

    def forward(self, x: Tensor) -> Tensor:
        return to_logits(self.outputs(x), self.kind)


class FromUnit(nn.Module):
    """u in the unit box -> inner(lo + u * (hi - lo)): attacks in [0, 1] bounds are then per-value
    fractions of each feature's (or channel's) own range."""

    lo: Tensor  # buffers
    span: Tensor

    def __init__(self, inner: nn.Module, lo: Tensor, hi: Tensor) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("lo", lo)
        self.register_buffer("span", hi - lo)

    def forward(self, u: Tensor) -> Tensor:
        return self.inner(self.lo + u * self.span)


def checked_kind(model: nn.Module, out: object, y: Tensor) -> OutputKind:
    """The kind of `out`, the model's outputs on every input, once they are checked usable: float scores,
    one row per label, finite, with a class for every label (one-line errors otherwise)."""
    n = len(y)
    if not isinstance(out, Tensor) or not out.is_floating_point() or out.dim() not in (1, 2) or len(out) != n:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise IncompatibleModelError(f"model(x) returns {shape} for {n} inputs; expected float scores of "
                                     "shape (N, C), one per class (or (N,) for a binary model)")
    if not bool(torch.isfinite(out).all()):
        raise IncompatibleModelError("model(x) returns NaN or infinite outputs; expected finite scores "
                                     "(check the weights)")
    kind = detect(out, model)
    classes = 2 if kind.single else out.shape[1]
    if int(y.max()) >= classes:
        raise IncompatibleModelError(f"the labels go up to {int(y.max())} but the model has {classes} outputs; "
                                     f"expected labels 0..{classes - 1}: map the labels, or pass the matching model")
    return kind
