"""Audit a user's classifier: the probes run on *their* model and data, in the report format of the studies.

    results = limitlab.audit(model, x, y)                 # or: from limitlab.audit import audit
    limitlab audit --model my_pkg.nets:build --weights model.safetensors --data test.npz

Four sections, each a `Result` (ids `audit-robustness`, `audit-calibration`, `audit-uncertainty`,
`audit-ood`) whose verdict is a rule over its own measurements, stated in the section's docstring;
"holds" means the limitation is present in this model. Every probe leaves the model as it found it
(modes, `requires_grad`, weights), and the same seed gives the same numbers.
"""
from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.audit import calibration, ood, robustness, uncertainty
from limitlab.audit._common import AuditData, logits_of
from limitlab.audit.load import load_model
from limitlab.context import Context, Progress
from limitlab.data import validate_arrays
from limitlab.errors import ConfigError, DataError, IncompatibleModelError
from limitlab.result import Result

SECTIONS: dict[str, Callable[..., Result]] = {
    "robustness": robustness.run, "calibration": calibration.run, "uncertainty": uncertainty.run, "ood": ood.run,
}
OPTIONS = {"robustness": ("eps_grid",), "uncertainty": ("mc_samples",)}  # the audit() options each section takes
MIN_INPUTS = 10


def audit(
    model: nn.Module, x: Tensor | np.ndarray, y: Tensor | np.ndarray, *, bounds: tuple[float, float] | None = None,
    seed: int = 0, eps_grid: Sequence[float] | None = None, mc_samples: int = 30,
    sections: Sequence[str] | None = None, progress: Progress | None = None,
) -> list[Result]:
    """Measure how fragile, miscalibrated, uncertain and over-confident `model` is on (x, y).

    `x` (N x ...) and integer labels `y` (N,); `bounds` are the inputs' valid range (inferred as
    (x.min(), x.max()) when None); `eps_grid` the attack sizes in input units (default: fractions of
    the bounds' width); `mc_samples` the MC-dropout passes; `sections` a subset of `SECTIONS`.
    """
    names = check_options(sections, mc_samples=mc_samples, eps_grid=eps_grid)
    data = prepare(model, x, y, bounds=bounds)
    ctx = Context(seed=seed, threads=torch.get_num_threads(), progress=progress or Progress())
    options = {"eps_grid": eps_grid, "mc_samples": mc_samples}
    results = []
    for name in names:
        start = time.perf_counter()
        result = SECTIONS[name](model, data, ctx, **{k: options[k] for k in OPTIONS.get(name, ())})
        result.provenance.update({"seed": seed, "wall_seconds": round(time.perf_counter() - start, 3),
                                  "num_inputs": len(data.y), "bounds": list(data.bounds),
                                  "model": type(model).__name__})
        results.append(result)
    return results


def check_options(sections: Sequence[str] | None, *, mc_samples: int, eps_grid: Sequence[float] | None) -> list[str]:
    if isinstance(sections, str):  # "robustness,ood", not its characters
        sections = sections.split(",")
    names = list(SECTIONS) if sections is None else [s.strip() for s in sections if s.strip()]
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        raise ConfigError(f"unknown audit section {unknown[0] if unknown else '(none)'!r}; valid sections: "
                          f"{', '.join(SECTIONS)}")
    if not isinstance(mc_samples, int) or mc_samples < 2:
        raise ConfigError(f"mc_samples={mc_samples!r}; expected an integer >= 2 (30 is a good default)")
    if eps_grid is not None and (not all(e >= 0 for e in eps_grid) or not any(e > 0 for e in eps_grid)):
        raise ConfigError(f"eps_grid={tuple(eps_grid)}; expected sizes >= 0 in input units, at least one > 0")
    return names


def parse_bounds(text: str) -> tuple[float, float]:
    """`"LO,HI"` -> (lo, hi), or a one-line ConfigError."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"bounds {text!r} are not two numbers LO,HI; expected e.g. 0,1 or 0,255") from None
    if not lo < hi:
        raise ConfigError(f"bounds {text!r} have LO >= HI; expected LO < HI, e.g. 0,1")
    return lo, hi


def _numpy(a: Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy()
    if isinstance(a, np.ndarray):
        return a
    raise DataError(f"{name} is a {type(a).__name__}; expected a torch.Tensor or a numpy array")


def prepare(model: nn.Module, x: Tensor | np.ndarray, y: Tensor | np.ndarray, *,
            bounds: tuple[float, float] | None) -> AuditData:
    """Validate (x, y) and the bounds, check the model outputs (N, C) logits, and compute them once."""
    if not isinstance(model, nn.Module):
        raise IncompatibleModelError(f"model is a {type(model).__name__}; expected a torch.nn.Module")
    xn, yn = _numpy(x, "x"), _numpy(y, "y")
    validate_arrays(xn, yn, name="audit data", bounds=bounds)
    if len(xn) < MIN_INPUTS:
        raise DataError(f"audit data: {len(xn)} inputs; expected at least {MIN_INPUTS} (a few hundred for stable numbers)")
    lo, hi = (float(xn.min()), float(xn.max())) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not lo < hi:
        raise DataError(f"audit data: bounds ({lo:g}, {hi:g}) are empty (every input value is the same?); "
                        "expected low < high: pass bounds=(low, high)")
    xt = torch.from_numpy(np.ascontiguousarray(xn, dtype=np.float32))
    yt = torch.from_numpy(yn.astype(np.int64))
    check_outputs(model, xt, yt)
    return AuditData(xt, yt, (lo, hi), logits_of(model, xt))


def check_outputs(model: nn.Module, x: Tensor, y: Tensor) -> None:
    """One line unless model(x[:2]) is (2, C) finite float logits with C >= max(y) + 1 and C >= 2."""
    needed = max(int(y.max()) + 1, 2)
    try:
        with torch.no_grad(), frozen(model):
            out = model(x[:2])
    except Exception as err:  # noqa: BLE001  (any failure of a user's forward pass is an incompatibility)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise IncompatibleModelError(f"model(x) raised {type(err).__name__}: {reason} for x of shape (2, "
                                     f"{', '.join(map(str, x.shape[1:]))}); expected a model that takes the data's "
                                     "inputs as given") from None
    if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[1] < needed:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise IncompatibleModelError(f"model(x) returns {shape} for 2 inputs; expected logits of shape (2, C) with "
                                     f"C >= {needed} (the labels go up to {needed - 1}); return one score per class")
    if not torch.isfinite(out).all():
        raise IncompatibleModelError("model(x) returns NaN or infinite logits; expected finite scores (check the weights)")


class _CallableModule(types.ModuleType):
    """`limitlab.audit(model, x, y)`: once imported, the package attribute `limitlab.audit` is this
    module (Python sets it), so the module itself forwards calls to `audit`."""

    def __call__(self, *args, **kwargs) -> list[Result]:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["SECTIONS", "AuditData", "audit", "load_model", "parse_bounds", "prepare"]
