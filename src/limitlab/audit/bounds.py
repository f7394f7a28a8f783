"""The valid range of every input value, and per-channel normalization, as the audit uses them.

Bounds are given as one pair (`"0,1"`), as a file of per-feature or per-channel bounds (`.npz` with
arrays `lo` and `hi`, or a `.csv` of two rows, lo then hi), or inferred from the data: per channel for
images (N x C x H x W), per feature for tables (N x D), one pair otherwise; the report says which.
Eps is then a fraction of each value's own range, so a tabular set with one feature in the thousands
does not make eps several standard deviations of every other feature.

`--normalize MEAN,STD` (2C numbers: C means, then C standard deviations, or one of each) declares
that the model expects (x - mean) / std per channel while x is given in raw units: the audit then
applies that itself and attacks x in raw units, as ART's `preprocessing=(mean, std)` does.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from limitlab.errors import ConfigError, DataError

FILE_HINT = "save them with np.savez(path, lo=lo, hi=hi), one value per feature or per channel"


@dataclass(frozen=True)
class Bounds:
    """lo and hi shaped like one input (broadcast), and how they were obtained (said in the report)."""

    lo: Tensor
    hi: Tensor
    source: str  # e.g. "given", "given per channel (bounds.npz)", "inferred per feature from the data"

    @property
    def inferred(self) -> bool:
        return self.source.startswith("inferred")

    @property
    def span(self) -> Tensor:
        return self.hi - self.lo

    def to_unit(self, x: Tensor, *, batch: int) -> Tensor:
        """x in the unit box, (x - lo) / (hi - lo) clamped to [0, 1] and 0 where a range is empty, a batch at a
        time into one tensor (no temporaries the size of the test set); `x` itself when it already lies in [0, 1]
        with bounds (0, 1): shared, never written (the attacks return new tensors)."""
        lo, span = self.lo, self.span
        if bool((lo == 0).all() and (span == 1).all()) and len(x) and bool(x.min() >= 0 and x.max() <= 1):
            return x
        scale = lambda c: torch.where(span > 0, (c - lo) / span.clamp_min(1e-30), 0.0).clamp(0, 1)  # noqa: E731
        first = scale(x[:batch])
        out = torch.empty((len(x), *first.shape[1:]), dtype=first.dtype, device=first.device)
        out[:batch] = first
        for i in range(batch, len(x), batch):
            out[i:i + batch] = scale(x[i:i + batch])
        return out


def parse_pair(text: str) -> tuple[float, float] | None:
    """`"LO,HI"` -> (lo, hi); None if `text` is not two numbers (then it may be a file)."""
    parts = text.split(",")
    try:
        lo, hi = (float(v) for v in parts)
    except ValueError:
        return None
    if not lo < hi:
        raise ConfigError(f"bounds {text!r} have LO >= HI; expected LO < HI, e.g. 0,1")
    return lo, hi


def _read_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise ConfigError(f"--bounds {path}: neither LO,HI nor an existing file; expected e.g. 0,1 or bounds.npz")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as f:
                return np.asarray(f["lo"], np.float64), np.asarray(f["hi"], np.float64)
        if path.suffix.lower() == ".csv":
            rows = np.loadtxt(path, delimiter=",", ndmin=2)
            if len(rows) != 2:
                raise ValueError(f"{len(rows)} rows")
            return rows[0], rows[1]
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"bounds {path}: cannot be read ({str(err).splitlines()[0]}); expected arrays lo and hi; "
                        f"{FILE_HINT}") from None
    raise DataError(f"bounds {path}: unknown suffix {path.suffix!r}; expected .npz or .csv; {FILE_HINT}")


def _shaped(a: np.ndarray, shape: tuple[int, ...], name: str) -> Tensor:
    """Per-channel (C,) values of images become (C, 1, 1); anything that broadcasts to `shape` is kept."""
    if a.ndim == 1 and len(shape) == 3 and len(a) == shape[0]:
        a = a[:, None, None]
    try:
        return torch.from_numpy(np.broadcast_to(a, shape).astype(np.float32).copy())
    except ValueError:
        raise DataError(f"bounds {name}: shape {a.shape} does not fit inputs of shape {shape}; expected one value "
                        "per feature, per channel, or per input value") from None


def resolve(x: Tensor, given: tuple[float, float] | str | Path | None) -> Bounds:
    """The bounds for inputs `x`: given (a pair, or a file), or inferred; DataError if x leaves them."""
    shape = tuple(x.shape[1:])
    if given is None:
        return infer(x)
    text_pair = parse_pair(given) if isinstance(given, str) else None  # "LO,HI"; other text names a file
    if isinstance(given, Path) or (isinstance(given, str) and not text_pair):
        path = Path(given)
        lo_a, hi_a = _read_file(path)
        lo, hi = _shaped(lo_a, shape, str(path)), _shaped(hi_a, shape, str(path))
        kind = "per channel" if lo_a.ndim == 1 and len(shape) == 3 and len(lo_a) == shape[0] else "per feature"
        source = f"given {kind} ({path.name})"
    else:
        pair = text_pair or tuple(float(v) for v in given)
        lo, hi = torch.full(shape, pair[0]), torch.full(shape, pair[1])
        source = "given"
    if bool((lo > hi).any()) or not bool((lo < hi).any()):
        raise DataError(f"bounds ({source}): some lo > hi, or no value has lo < hi; expected lo < hi")
    outside = (x < lo - 1e-6) | (x > hi + 1e-6)
    if bool(outside.any()):
        first = int(torch.nonzero(outside.flatten(1).any(1))[0])
        raise DataError(f"the data has {int(outside.sum())} values outside the bounds ({source}; first in input "
                        f"{first}); expected every value within them: pass the bounds the inputs use")
    return Bounds(lo, hi, source)


def infer(x: Tensor) -> Bounds:
    """min and max of the data: per channel for N x C x H x W, per feature for N x D, else one pair."""
    if x.dim() == 4:
        lo, hi = x.amin(dim=(0, 2, 3))[:, None, None], x.amax(dim=(0, 2, 3))[:, None, None]
        kind = "per channel"
    elif x.dim() == 2:
        lo, hi, kind = x.amin(0), x.amax(0), "per feature"
    else:
        lo, hi, kind = x.min(), x.max(), "as one pair"
    if not bool((lo < hi).any()):
        raise DataError("every input value is the same, so no bounds can be inferred; pass --bounds LO,HI")
    shape = tuple(x.shape[1:])
    return Bounds(lo.expand(shape).clone(), hi.expand(shape).clone(), f"inferred {kind} from the data (min, max)")


def parse_normalize(text: str | Sequence[float] | None, num_channels: int) -> tuple[Tensor, Tensor] | None:
    """`"m1,..,mC,s1,..,sC"` (or one mean and one std) -> per-channel (mean, std), each (C,)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")] if isinstance(text, str) else [float(v) for v in text]
    except ValueError:
        values = []
    if len(values) not in (2, 2 * num_channels) or not all(np.isfinite(values)):
        raise ConfigError(f"--normalize {text!r}; expected MEAN,STD or {num_channels} means then {num_channels} "
                          "standard deviations, comma-separated (e.g. 0.1307,0.3081)")
    half = len(values) // 2
    mean, std = torch.tensor(values[:half]), torch.tensor(values[half:])
    if not bool((std > 0).all()):
        raise ConfigError(f"--normalize {text!r}: a standard deviation is <= 0; expected positive STDs")
    return mean.expand(num_channels).clone(), std.expand(num_channels).clone()
