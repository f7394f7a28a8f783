"""The audit's optional inputs besides the test set, read and checked once, before any measurement.

`--ood FILE`: the user's own out-of-distribution inputs (array `x`; labels, if any, are ignored);
`--groups FILE`: a group id per test input (array `groups`, or a one-column CSV whose cells may be
names); `--train FILE`: labelled training inputs for the remedies that need them (arrays `x`, `y`);
`--max-inputs N`: a seeded subsample of the test set, stratified by label, so a large test set costs
what N inputs cost and keeps its class mix. Files are read as `limitlab.data` reads them (nothing is
unpickled); every problem is one line naming the file, what it holds and what was expected.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from limitlab.data import validate_arrays
from limitlab.data.arrays import read_arrays
from limitlab.errors import DataError

MIN_INPUTS = 10


def _shape_matches(x: np.ndarray, shape: tuple[int, ...], path: Path, what: str) -> None:
    if tuple(x.shape[1:]) != shape:
        raise DataError(f"{path}: {what} have shape (N, {', '.join(map(str, x.shape[1:]))}); expected "
                        f"(N, {', '.join(map(str, shape))}), the shape of the test inputs")


def load_inputs(path: str | Path, *, shape: tuple[int, ...]) -> Tensor:
    """Unlabelled inputs (an OOD set): array `x` shaped like the test inputs, finite, at least 10 of them."""
    path = Path(path)
    arrays = read_arrays(path, labels=False)
    if "x" not in arrays:
        raise DataError(f"{path}: has arrays {sorted(arrays)}; expected 'x' (the inputs); save with "
                        "np.savez(path, x=x)")
    x = arrays["x"]
    validate_arrays(x, None, name=str(path), bounds=None)
    _shape_matches(x, shape, path, "its inputs")
    if len(x) < MIN_INPUTS:
        raise DataError(f"{path}: {len(x)} inputs; expected at least {MIN_INPUTS}")
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def load_labelled(path: str | Path, *, shape: tuple[int, ...], num_classes: int) -> tuple[Tensor, Tensor]:
    """Labelled inputs (a training set): arrays `x` shaped like the test inputs and `y` in 0..C-1."""
    from limitlab.data import load_arrays

    data = load_arrays(path, num_classes=num_classes, bounds=None)
    _shape_matches(data.x.numpy(), shape, Path(path), "its inputs")
    if len(data.x) < MIN_INPUTS:
        raise DataError(f"{path}: {len(data.x)} inputs; expected at least {MIN_INPUTS}")
    return data.x, data.y


def _groups_csv(path: Path, n: int) -> np.ndarray:
    """One value per row. The first row is a header (e.g. 'group') when there is one row more than the n inputs,
    or when it alone is not a number."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not UTF-8 text; save the groups as UTF-8 CSV") from None
    if any(len(r) != 1 for r in rows):
        raise DataError(f"{path}: has rows of {max(len(r) for r in rows)} columns; expected one value per row, a "
                        "group per input (an optional header row first)")
    values = [r[0].strip() for r in rows]
    header = len(values) == n + 1 or (bool(values) and not _number(values[0]) and all(map(_number, values[1:])))
    return np.array(values[1:] if header else values)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_groups(source: str | Path | np.ndarray | Tensor, *, n: int) -> tuple[Tensor, tuple[str, ...]]:
    """A group per test input: integer codes 0..G-1 (N,) and the groups' names (their ids as given)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() == ".csv":
            values = _groups_csv(path, n)
        else:
            arrays = read_arrays(path, labels=False)
            key = next((k for k in ("groups", "group", "g") if k in arrays), None)
            if key is None:
                raise DataError(f"{path}: has arrays {sorted(arrays)}; expected 'groups' (one id per test input); "
                                "save with np.savez(path, groups=groups)")
            values = arrays[key]
        where = str(path)
    else:
        values = source.detach().cpu().numpy() if isinstance(source, Tensor) else np.asarray(source)
        where = "groups"
    if values.ndim != 1 or len(values) != n:
        raise DataError(f"{where}: holds {values.shape} group ids for {n} test inputs; expected shape ({n},), "
                        "one group per input, in the order of the data")
    if values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise DataError(f"{where}: group ids are fractional numbers; expected integers or names")
    names, codes = np.unique(values.astype(np.int64) if values.dtype.kind in "fb" else values, return_inverse=True)
    if len(names) < 2:
        raise DataError(f"{where}: every input is in one group ({names[0]!r}); expected at least two groups")
    return torch.from_numpy(codes.astype(np.int64)), tuple(str(v) for v in names)


def stratified_sample(y: Tensor, num: int, *, generator: torch.Generator) -> Tensor:
    """Indices (sorted) of `num` inputs drawn without replacement so that each label keeps its share of the
    data (largest remainders for the rounding; ties go to the more common label, then the smaller one)."""
    labels, counts = torch.unique(y, return_counts=True)
    exact = counts.double() * num / len(y)
    quota = exact.floor().long()
    order = sorted(range(len(labels)), key=lambda i: (-(exact[i] - quota[i]).item(), -counts[i].item(), i))
    for i in order[:num - int(quota.sum())]:
        quota[i] += 1
    picked = []
    for label, k in zip(labels.tolist(), quota.tolist()):
        members = torch.nonzero(y == label).flatten()
        picked.append(members[torch.randperm(len(members), generator=generator)[:k]])
    return torch.cat(picked).sort().values
