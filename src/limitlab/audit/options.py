"""What an audit may be given besides the model and its test set, checked before any work.

`Options` is plain data (it travels to worker processes inside a `SubjectSpec`): the user's own OOD
inputs, a group id per test input, labelled training inputs, the module attribution reads, a stratified
subsample size, the batch size and the device. The helpers here turn each into what the subject holds,
with one-line errors (`limitlab.audit.inputs` reads the files).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from limitlab.audit import inputs
from limitlab.data import validate_arrays
from limitlab.errors import ConfigError, DataError

BATCH = 256  # inputs per forward pass by default: memory stays flat on a large test set
MIN_INPUTS = inputs.MIN_INPUTS


@dataclass(frozen=True)
class Options:
    """What an audit may be given besides the model and its test set (plain data: it travels to workers).

    `ood`, `groups`, `train`: files (or, from Python, arrays) of the user's own OOD inputs, a group id per
    test input, and labelled training inputs; `layer`: the module attribution reads (found when None);
    `max_inputs`: a stratified subsample of the test set, drawn with `sample_seed`; `batch_size`: inputs
    per forward pass; `device`: where the model runs ("auto": cuda when present, else cpu; "model": where
    its parameters already are, what `limitlab.audit(model, ...)` does by default)."""

    ood: Any = None
    groups: Any = None
    train: Any = None
    layer: str | None = None
    max_inputs: int | None = None
    sample_seed: int = 0
    batch_size: int = BATCH
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("max_inputs", "batch_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name}={value!r}; expected an integer >= 1")
        if self.max_inputs is not None and self.max_inputs < MIN_INPUTS:
            raise ConfigError(f"max_inputs={self.max_inputs}; expected at least {MIN_INPUTS}")
        if self.device != "model":
            resolve_device(self.device)

    def files(self) -> dict[str, str]:
        return {k: str(v) for k in ("ood", "groups", "train") if isinstance(v := getattr(self, k), (str, Path))}


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda when available, else cpu; a named device must exist here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device={name!r}; expected auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r} but this machine has no CUDA device; use --device cpu (or auto)")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device={name!r}; expected auto, cpu, cuda or cuda:N")
    return device


def as_numpy(a: Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy()
    if isinstance(a, np.ndarray):
        return a
    raise DataError(f"{name} is a {type(a).__name__}; expected a torch.Tensor or a numpy array")


def model_device(model: nn.Module) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def check_layer(model: nn.Module, name: str | None) -> str | None:
    """The named module must exist; the message lists the convolutional ones (attribution's usual choice)."""
    if name is None:
        return None
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        convs = [n for n, m in modules.items() if isinstance(m, nn.modules.conv._ConvNd)]
        some = ", ".join((convs or [n for n in modules if n])[:8]) or "none"
        raise ConfigError(f"layer={name!r} is not a module of the model; expected one of its module names "
                          f"(e.g. {some})")
    return name


def ood_inputs(source: Any, shape: tuple[int, ...]) -> Tensor | None:
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return inputs.load_inputs(source, shape=shape)
    arr = as_numpy(source, "ood")
    validate_arrays(arr, None, name="ood", bounds=None)
    if tuple(arr.shape[1:]) != shape or len(arr) < MIN_INPUTS:
        raise DataError(f"ood: inputs of shape {arr.shape}; expected (N, {', '.join(map(str, shape))}) with N >= "
                        f"{MIN_INPUTS}, shaped like the test inputs")
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def training_pairs(source: Any, shape: tuple[int, ...], classes: int) -> tuple[Tensor, Tensor] | None:
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return inputs.load_labelled(source, shape=shape, num_classes=classes)
    if not isinstance(source, tuple) or len(source) != 2:
        raise DataError(f"train is a {type(source).__name__}; expected a file or a pair (x, y)")
    xn, yn = as_numpy(source[0], "train x"), as_numpy(source[1], "train y")
    validate_arrays(xn, yn, name="train", num_classes=classes, bounds=None)
    if tuple(xn.shape[1:]) != shape or len(xn) < MIN_INPUTS:
        raise DataError(f"train: inputs of shape {xn.shape}; expected (N, {', '.join(map(str, shape))}) with N >= "
                        f"{MIN_INPUTS}, shaped like the test inputs")
    return (torch.from_numpy(np.ascontiguousarray(xn, dtype=np.float32)), torch.from_numpy(yn.astype(np.int64)))
