"""In-memory datasets, user array files, and the one place inputs are validated.

User files are read without unpickling anything: `.npz` with `allow_pickle=False`, `.pt` with
`torch.load(..., weights_only=True)`, `.safetensors`. Validation names what was given, what was
expected and how to fix it.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from limitlab.cache import digest
from limitlab.errors import DataError

Bounds = tuple[float, float]


@dataclass(eq=False)
class ArrayDataset:
    """Inputs `x` (float32, N x ...) and integer labels `y` (int64, N) with the input `bounds`."""

    x: torch.Tensor
    y: torch.Tensor
    name: str = "data"
    num_classes: int = 0
    bounds: Bounds = (0.0, 1.0)
    class_names: tuple[str, ...] = ()
    _digest: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.x)

    def digest(self) -> str:
        """A hash of the contents, for cache keys."""
        if self._digest is None:
            self._digest = digest(self.name, self.x, self.y, list(self.bounds))
        return self._digest

    def subset(self, index: torch.Tensor | np.ndarray | slice, *, name: str | None = None) -> ArrayDataset:
        index = torch.as_tensor(index) if not isinstance(index, slice) else index
        return ArrayDataset(self.x[index], self.y[index], name or self.name, self.num_classes,
                            self.bounds, self.class_names)


@dataclass(eq=False)
class Split:
    """A train / validation / test split of one dataset."""

    train: ArrayDataset
    val: ArrayDataset
    test: ArrayDataset

    @property
    def num_classes(self) -> int:
        return self.train.num_classes


def validate_arrays(
    x: np.ndarray, y: np.ndarray | None = None, *, name: str = "data", num_classes: int | None = None,
    bounds: Bounds | None = (0.0, 1.0),
) -> None:
    """Raise a one-line DataError unless `x` (N x ...) and `y` (N,) are usable as given."""
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "fiub":
        kind = getattr(x, "dtype", type(x).__name__)
        raise DataError(f"{name}: x has dtype {kind}; expected a numeric array (float32 preferred)")
    if x.ndim < 2 or len(x) == 0:
        raise DataError(f"{name}: x has shape {x.shape}; expected N x features or N x C x H x W with N >= 1")
    bad = ~np.isfinite(x)
    if bad.any():
        raise DataError(f"{name}: x has {int(bad.sum())} NaN/Inf values (first in sample "
                        f"{int(np.argwhere(bad)[0][0])}); remove or impute them before use")
    if bounds is not None:
        lo, hi = float(x.min()), float(x.max())
        if lo < bounds[0] - 1e-6 or hi > bounds[1] + 1e-6:
            raise DataError(f"{name}: x has values in [{lo:g}, {hi:g}], outside the bounds {tuple(bounds)}; "
                            "rescale x (e.g. x / 255) or declare the bounds it uses")
    if y is None:
        return
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
        raise DataError(f"{name}: y has dtype {getattr(y, 'dtype', type(y).__name__)}; "
                        "expected integer class labels 0..C-1 (e.g. y.astype(np.int64))")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{name}: y has shape {y.shape} for {len(x)} inputs; expected shape ({len(x)},)")
    if y.min() < 0 or (num_classes is not None and y.max() >= num_classes):
        expected = f"0..{num_classes - 1}" if num_classes else "0 or more"
        raise DataError(f"{name}: labels range over {int(y.min())}..{int(y.max())}; expected {expected}; "
                        "map the labels to 0..C-1")


def _read(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        if suffix == ".pt":
            obj = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(obj, dict):
                raise DataError(f"{path}: holds a {type(obj).__name__}; expected a dict with tensors 'x' and 'y'")
            return {k: v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for k, v in obj.items()}
        if suffix == ".safetensors":
            return {k: v.numpy() for k, v in load_file(path).items()}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except (OSError, ValueError, zipfile.BadZipFile, SafetensorError, RuntimeError) as err:
        if isinstance(err, DataError):
            raise
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{path}: cannot be read as {suffix} ({reason}); "
                        "save arrays with np.savez(path, x=x, y=y)") from None
    raise DataError(f"{path}: unknown suffix {suffix!r}; expected .npz, .pt or .safetensors with arrays x and y")


def load_arrays(
    path: str | Path, *, num_classes: int | None = None, bounds: Bounds | None = (0.0, 1.0),
) -> ArrayDataset:
    """Load and validate a user's arrays `x` (N x ...) and `y` (N,) from .npz, .pt or .safetensors."""
    path = Path(path)
    arrays = _read(path)
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DataError(f"{path}: has arrays {sorted(arrays)}; expected 'x' and 'y' "
                        f"(missing {', '.join(missing)}); save with np.savez(path, x=x, y=y)")
    x, y = arrays["x"], arrays["y"]
    validate_arrays(x, y, name=str(path), num_classes=num_classes, bounds=bounds)
    classes = num_classes or int(y.max()) + 1
    return ArrayDataset(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64)),
                        name=path.name, num_classes=classes, bounds=bounds or (float(x.min()), float(x.max())))
