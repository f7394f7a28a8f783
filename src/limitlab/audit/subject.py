"""The subject of an audit: the user's model and data, validated once, and the views the probes use.

`build_subject(model, x, y, bounds=..., normalize=..., options=...)` checks everything before any
measurement (shapes, labels, NaN/Inf, bounds, the forward pass, the output kind, the optional inputs of
`Options`) and computes the clean logits once, in float64. `SubjectSpec` is the same subject as plain
data (the model spec, the files, the options), which is what travels to a worker process:
`subject_of(ctx)` loads it there (once per process) or returns the subject itself when it was passed
in process (`limitlab.audit(model, x, y)`).
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
from limitlab.audit import inputs
from limitlab.audit.options import (
    BATCH,
    MIN_INPUTS,
    Options,
    as_numpy,
    check_layer,
    model_device,
    ood_inputs,
    resolve_device,
    training_pairs,
)
from limitlab.audit.outputs import Adapted, FromUnit, OutputKind, checked_kind, to_logits
from limitlab.context import Context
from limitlab.data import validate_arrays
from limitlab.errors import ConfigError, DataError, IncompatibleModelError


@dataclass(frozen=True)
class SubjectSpec:
    """What `limitlab audit` was given, as plain data a worker can load the subject from."""

    model: str
    data: str
    weights: str | None = None
    bounds: str | None = None
    normalize: str | None = None
    options: Options = field(default_factory=Options)

    def describe(self) -> dict[str, Any]:
        """The spec with each file's sha256 (the report's header and the run's identity)."""
        files = {k: v for k, v in (("weights", self.weights), ("data", self.data)) if v}
        if self.bounds and Path(self.bounds).is_file():
            files["bounds"] = self.bounds
        files.update(self.options.files())
        spec = {k: v for k, v in asdict(self).items() if k != "options"}
        return {**spec, **self.options.files(),  # a missing file is reported by its loader, with the fix
                "sha256": {k: sha256(Path(v)) for k, v in files.items() if Path(v).is_file()}}


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
    ood_x: Tensor | None = None  # the user's own OOD inputs (raw units), if given
    groups: Tensor | None = None  # a group code 0..G-1 per input, if given
    group_names: tuple[str, ...] = ()
    train: tuple[Tensor, Tensor] | None = None  # labelled training inputs (raw units), if given
    layer: str | None = None  # the module attribution reads, if named
    batch_size: int = BATCH
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    sampled: tuple[int, int] | None = None  # (kept, given) when --max-inputs subsampled the test set

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def u(self) -> Tensor:
        """The inputs in the unit box: (x - lo) / (hi - lo), 0 where a value's range is empty."""
        if "u" not in self.memo:
            self.memo["u"] = self.bounds.to_unit(self.x, batch=self.batch_size)
        return self.memo["u"]

    def once(self, key: str, compute: Any) -> Any:
        """`compute()` the first time `key` is asked for; the stored value afterwards."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


@torch.no_grad()
def outputs_of(module: nn.Module, x: Tensor, *, call: str = "forward", batch: int = BATCH) -> Tensor:
    """module(x) in eval mode, in batches of `batch`; modes and requires_grad are restored."""
    with frozen(module):
        fn = getattr(module, call)
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def _first_outputs(raw: Adapted, x: Tensor, batch: int) -> Tensor:
    try:
        return outputs_of(raw, x, call="outputs", batch=batch)
    except Exception as err:  # noqa: BLE001  (any failure of a user's forward pass is an incompatibility)
        text = str(err).strip().splitlines()
        raise IncompatibleModelError(f"model(x) raised {type(err).__name__}: {text[0] if text else ''} for x of "
                                     f"shape (N, {', '.join(map(str, x.shape[1:]))}); expected a model that takes "
                                     "the data's inputs as given") from None


def build_subject(model: nn.Module, x: Tensor | np.ndarray, y: Tensor | np.ndarray, *,
                  bounds: tuple[float, float] | str | Path | None = None,
                  normalize: str | Sequence[float] | None = None, about: dict[str, Any] | None = None,
                  options: Options | None = None) -> Subject:
    """Validate the model and data (one-line errors, before any work) and compute the clean logits."""
    opts = options or Options()
    if not isinstance(model, nn.Module):
        raise IncompatibleModelError(f"model is a {type(model).__name__}; expected a torch.nn.Module")
    xn, yn = as_numpy(x, "x"), as_numpy(y, "y")
    validate_arrays(xn, yn, name="audit data", bounds=None)
    if len(xn) < MIN_INPUTS:
        raise DataError(f"audit data: {len(xn)} inputs; expected at least {MIN_INPUTS} (a few hundred for "
                        "intervals narrow enough to decide a verdict)")
    xt = torch.from_numpy(np.ascontiguousarray(xn, dtype=np.float32))
    yt = torch.from_numpy(yn.astype(np.int64))
    groups, names = (inputs.load_groups(opts.groups, n=len(xt)) if opts.groups is not None else (None, ()))
    sampled = None
    if opts.max_inputs is not None and opts.max_inputs < len(xt):
        keep = inputs.stratified_sample(yt, opts.max_inputs, generator=torch.Generator().manual_seed(opts.sample_seed))
        sampled = (len(keep), len(xt))
        xt, yt = xt[keep], yt[keep]
        groups = None if groups is None else groups[keep]
    b = _bounds.resolve(xt, bounds)
    norm = _bounds.parse_normalize(normalize, xt.shape[1])
    device = model_device(model) if opts.device == "model" else resolve_device(opts.device)
    layer = check_layer(model, opts.layer)
    model.to(device)
    shape = tuple(xt.shape[1:])
    out = _first_outputs(Adapted(model, OutputKind("logits", False, ""), norm, shape, device), xt, opts.batch_size)
    kind = checked_kind(model, out, yt)
    raw = Adapted(model, kind, norm, shape, device)
    logits = to_logits(out.double(), kind)
    identity = bool((b.lo == 0).all() and (b.hi == 1).all())
    unit = raw if identity else FromUnit(raw, b.lo, b.hi)
    ood = ood_inputs(opts.ood, shape)
    train = training_pairs(opts.train, shape, logits.shape[1])
    info = dict(about or {"model": type(model).__name__})
    if sampled:
        info["sample"] = f"{sampled[0]} of {sampled[1]} inputs, stratified by label (seed {opts.sample_seed})"
    return Subject(model, xt, yt, b, norm, kind, raw, unit, logits, about=info, ood_x=ood, groups=groups,
                   group_names=names, train=train, layer=layer, batch_size=opts.batch_size, device=device,
                   sampled=sampled)


def load_subject(spec: SubjectSpec) -> Subject:
    """The subject a spec describes: the model built and its weights loaded, the data read and checked."""
    from limitlab.audit.load import load_model
    from limitlab.data import load_arrays

    model = load_model(spec.model, spec.weights)
    data = load_arrays(spec.data, bounds=None)
    return build_subject(model, data.x, data.y, bounds=spec.bounds, normalize=spec.normalize,
                         about=spec.describe(), options=spec.options)


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
