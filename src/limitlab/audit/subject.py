"""The subject of an audit: the user's model and data, validated once, and the views the probes use.

`build_subject(model, x, y, bounds=..., normalize=...)` checks everything before any measurement
(shapes, labels, NaN/Inf, bounds, the forward pass, the output kind) and computes the clean logits
once, in float64. `SubjectSpec` is the same subject as plain data (the model spec, the files, the
options), which is what travels to a worker process: `subject_of(ctx)` loads it there (once per
process) or returns the subject itself when it was passed in process (`limitlab.audit(model, x, y)`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.audit import bounds as _bounds
from limitlab.audit.outputs import Adapted, FromUnit, OutputKind, detect, to_logits
from limitlab.context import Context
from limitlab.data import validate_arrays
from limitlab.errors import ConfigError, DataError, IncompatibleModelError

BATCH = 256  # inputs per forward pass: memory stays flat on a large test set
MIN_INPUTS = 10


@dataclass(frozen=True)
class SubjectSpec:
    """What `limitlab audit` was given, as plain data a worker can load the subject from."""

    model: str
    data: str
    weights: str | None = None
    bounds: str | None = None
    normalize: str | None = None

    def describe(self) -> dict[str, Any]:
        """The spec with each file's sha256 (the report's header and the run's identity)."""
        files = {k: v for k, v in (("weights", self.weights), ("data", self.data)) if v}
        if self.bounds and Path(self.bounds).is_file():
            files["bounds"] = self.bounds
        return {**asdict(self), "sha256": {k: sha256(Path(v)) for k, v in files.items()}}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(eq=False)
class Subject:
    """A validated model and data. `x` raw inputs (N, ...), `y` labels; `raw` maps raw x to logits and
    `unit` maps the unit box to logits (what the attacks see); `logits` are the clean logits in float64."""

    model: nn.Module
    x: Tensor
    y: Tensor
    bounds: _bounds.Bounds
    normalize: tuple[Tensor, Tensor] | None
    kind: OutputKind
    raw: Adapted
    unit: nn.Module
    logits: Tensor
    about: dict[str, Any] = field(default_factory=dict)  # model spec / class, files and their sha256
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # checks computed once per process

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def u(self) -> Tensor:
        """The inputs in the unit box: (x - lo) / (hi - lo), 0 where a value's range is empty."""
        if "u" not in self.memo:
            span = self.bounds.span
            self.memo["u"] = torch.where(span > 0, (self.x - self.bounds.lo) / span.clamp_min(1e-30), 0.0).clamp(0, 1)
        return self.memo["u"]

    def once(self, key: str, compute: Any) -> Any:
        """`compute()` the first time `key` is asked for; the stored value afterwards."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def _numpy(a: Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy()
    if isinstance(a, np.ndarray):
        return a
    raise DataError(f"{name} is a {type(a).__name__}; expected a torch.Tensor or a numpy array")


@torch.no_grad()
def outputs_of(module: nn.Module, x: Tensor, *, call: str = "forward") -> Tensor:
    """module(x) in eval mode, in batches of `BATCH`; modes and requires_grad are restored."""
    with frozen(module):
        fn = getattr(module, call)
        return torch.cat([fn(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def _first_outputs(raw: Adapted, x: Tensor) -> Tensor:
    try:
        return outputs_of(raw, x, call="outputs")
    except Exception as err:  # noqa: BLE001  (any failure of a user's forward pass is an incompatibility)
        text = str(err).strip().splitlines()
        raise IncompatibleModelError(f"model(x) raised {type(err).__name__}: {text[0] if text else ''} for x of "
                                     f"shape (N, {', '.join(map(str, x.shape[1:]))}); expected a model that takes "
                                     "the data's inputs as given") from None


def build_subject(model: nn.Module, x: Tensor | np.ndarray, y: Tensor | np.ndarray, *,
                  bounds: tuple[float, float] | str | Path | None = None,
                  normalize: str | Sequence[float] | None = None, about: dict[str, Any] | None = None) -> Subject:
    """Validate the model and data (one-line errors, before any work) and compute the clean logits."""
    if not isinstance(model, nn.Module):
        raise IncompatibleModelError(f"model is a {type(model).__name__}; expected a torch.nn.Module")
    xn, yn = _numpy(x, "x"), _numpy(y, "y")
    validate_arrays(xn, yn, name="audit data", bounds=None)
    if len(xn) < MIN_INPUTS:
        raise DataError(f"audit data: {len(xn)} inputs; expected at least {MIN_INPUTS} (a few hundred for "
                        "intervals narrow enough to decide a verdict)")
    xt = torch.from_numpy(np.ascontiguousarray(xn, dtype=np.float32))
    yt = torch.from_numpy(yn.astype(np.int64))
    b = _bounds.resolve(xt, bounds)
    norm = _bounds.parse_normalize(normalize, xt.shape[1])
    out = _first_outputs(Adapted(model, OutputKind("logits", False, ""), norm, tuple(xt.shape[1:])), xt)
    if not isinstance(out, Tensor) or not out.is_floating_point() or out.dim() not in (1, 2) or len(out) != len(xt):
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise IncompatibleModelError(f"model(x) returns {shape} for {len(xt)} inputs; expected float scores of "
                                     "shape (N, C), one per class (or (N,) for a binary model)")
    if not bool(torch.isfinite(out).all()):
        raise IncompatibleModelError("model(x) returns NaN or infinite outputs; expected finite scores "
                                     "(check the weights)")
    kind = detect(out, model)
    classes = 2 if kind.single else out.shape[1]
    if int(yt.max()) >= classes:
        raise IncompatibleModelError(f"the labels go up to {int(yt.max())} but the model has {classes} outputs; "
                                     f"expected labels 0..{classes - 1}: map the labels, or pass the matching model")
    raw = Adapted(model, kind, norm, tuple(xt.shape[1:]))
    logits = to_logits(out.double(), kind)
    identity = bool((b.lo == 0).all() and (b.hi == 1).all())
    unit = raw if identity else FromUnit(raw, b.lo, b.hi)
    return Subject(model, xt, yt, b, norm, kind, raw, unit, logits,
                   about=dict(about or {"model": type(model).__name__}))


def load_subject(spec: SubjectSpec) -> Subject:
    """The subject a spec describes: the model built and its weights loaded, the data read and checked."""
    from limitlab.audit.load import load_model
    from limitlab.data import load_arrays

    model = load_model(spec.model, spec.weights)
    data = load_arrays(spec.data, bounds=None)
    return build_subject(model, data.x, data.y, bounds=spec.bounds, normalize=spec.normalize,
                         about=spec.describe())


_LOADED: dict[SubjectSpec, Subject] = {}  # per process: a worker running several sections loads once


def subject_of(ctx: Context) -> Subject:
    """The subject an audit section measures (`ctx.subject`), loaded from its spec if need be."""
    s = ctx.subject
    if isinstance(s, Subject):
        return s
    if isinstance(s, SubjectSpec):
        if s not in _LOADED:
            _LOADED[s] = load_subject(s)
        return _LOADED[s]
    raise ConfigError("an audit section needs a model and data to measure; run it with limitlab audit "
                      "--model SPEC --data FILE, or limitlab.audit(model, x, y)")
