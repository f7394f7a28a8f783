"""In-memory datasets, user array files, and the one place inputs are validated.

User files are read without unpickling anything: `.npz` with `allow_pickle=False`, `.pt` with
`torch.load(..., weights_only=True)`, `.safetensors`. Validation names what was given, what was
expected and how to fix it.
"""
from __future__ import annotations

import csv
import pickle
import warnings
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


def _read_csv(path: Path, *, labels: bool = True) -> dict[str, np.ndarray]:
    """A table with a header row: the column named `y` (or `label`) holds the labels, every other the features
    (`labels=False`: a table of features, any label column left out)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise DataError(f"{path}: has {len(rows)} rows; expected a header row and at least one row of numbers")
    header = [h.strip() for h in rows[0]]
    label = next((h for h in ("y", "label") if h in header), None)
    if label is None and labels:
        raise DataError(f"{path}: no column named 'y' or 'label' in the header ({', '.join(header[:6])}); "
                        "name the label column y")
    try:
        table = np.array([[float(v) if v.strip() else np.nan for v in row] for row in rows[1:]], dtype=np.float64)
    except ValueError as err:
        raise DataError(f"{path}: a cell is not a number ({err}); expected numbers (empty for missing)") from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise DataError(f"{path}: rows of different lengths; expected {len(header)} values in every row")
    if label is None:
        return {"x": table.astype(np.float32)}
    k = header.index(label)
    if not labels:
        return {"x": np.delete(table, k, axis=1).astype(np.float32)}
    y = table[:, k]
    if np.isnan(y).any() or (y != np.round(y)).any():
        raise DataError(f"{path}: the {label!r} column has empty or non-integer values; expected class labels 0..C-1")
    return {"x": np.delete(table, k, axis=1).astype(np.float32), "y": y.astype(np.int64)}


def read_arrays(path: Path, *, labels: bool = True) -> dict[str, np.ndarray]:
    """The named arrays a user's file holds (.npz, .pt, .safetensors, or a .csv table: `x`, and `y` when
    `labels`), unvalidated; an unreadable file is one DataError line."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        if suffix == ".csv":
            return _read_csv(path, labels=labels)
        if suffix == ".pt":
            with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses anyway
                warnings.simplefilter("ignore")
                obj = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(obj, dict):
                raise DataError(f"{path}: holds a {type(obj).__name__}; expected a dict with tensors 'x' and 'y'")
            return {k: v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for k, v in obj.items()}
        if suffix == ".safetensors":
            return {k: v.numpy() for k, v in load_file(path).items()}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except pickle.UnpicklingError:
        raise DataError(f"{path}: holds pickled Python objects, which limitlab never unpickles (it could run code); "
                        "save plain tensors: torch.save({'x': x, 'y': y}, path)") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not UTF-8 text; save the table as UTF-8 CSV") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, SafetensorError, RuntimeError) as err:
        if isinstance(err, DataError):
            raise
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, KeyError):
            reason = "not a file torch.save wrote"
        if path.is_file() and path.stat().st_size == 0:
            reason = "the file is empty"
        raise DataError(f"{path}: cannot be read as {suffix} ({reason}); "
                        "save arrays with np.savez(path, x=x, y=y)") from None
    raise DataError(f"{path}: unknown suffix {suffix!r}; expected .npz, .pt, .safetensors (arrays x and y) or .csv")


def load_arrays(
    path: str | Path, *, num_classes: int | None = None, bounds: Bounds | None = (0.0, 1.0),
) -> ArrayDataset:
    """Load and validate a user's arrays `x` (N x ...) and `y` (N,) from .npz, .pt, .safetensors or .csv
    (a header row; the column `y` holds the labels)."""
    path = Path(path)
    arrays = read_arrays(path)
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DataError(f"{path}: has arrays {sorted(arrays)}; expected 'x' and 'y' "
                        f"(missing {', '.join(missing)}); save with np.savez(path, x=x, y=y)")
    x, y = arrays["x"], arrays["y"]
    validate_arrays(x, y, name=str(path), num_classes=num_classes, bounds=bounds)
    classes = num_classes or int(y.max()) + 1
    return ArrayDataset(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64)),
                        name=path.name, num_classes=classes, bounds=bounds or (float(x.min()), float(x.max())))
