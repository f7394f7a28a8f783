"""Load a user's model: `"package.module:callable"` plus an optional state dict of weights.

The callable is imported with importlib and called with no arguments; it must return an `nn.Module`.
Weights are a *state dict* only: `.safetensors` (which holds nothing but tensors) or `.pt`/`.pth`
read with `torch.load(..., weights_only=True)`, which refuses any pickled object other than tensors
and plain containers, so a whole pickled model (or anything that would run code) is never executed.
Every failure is one line naming what was given, what was expected, and the fix.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import pickle
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from limitlab.errors import DataError, IncompatibleModelError

SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")
SAVE_HINT = ("save weights with safetensors.torch.save_file(model.state_dict(), path) or "
             "torch.save(model.state_dict(), path)")


def load_model(spec: str, weights: Path | str | None = None) -> nn.Module:
    """Build the model `spec` names (`"package.module:callable"`) and load `weights` (a state dict) into it."""
    model = _build(_resolve(spec), spec)
    if weights is not None:
        load_weights(model, read_state_dict(Path(weights)), name=str(weights))
    return model


def _resolve(spec: str) -> Callable[[], object]:
    if not isinstance(spec, str) or not SPEC.match(spec):
        raise IncompatibleModelError(f"model spec {spec!r} is not of the form 'package.module:callable'; "
                                     "expected e.g. my_pkg.nets:build (a function that returns an nn.Module)")
    module_name, attr_path = spec.split(":")
    try:
        with _quiet():  # a module that prints (or parses its own arguments) at import: not on our terminal
            obj: object = importlib.import_module(module_name)
    except SystemExit as err:
        raise IncompatibleModelError(f"model spec {spec!r}: importing {module_name!r} called sys.exit({err.code!r}) "
                                     "(a module that parses arguments or exits when imported); put that code under "
                                     "if __name__ == '__main__':") from None
    except ModuleNotFoundError as err:
        if err.name is None or not (module_name == err.name or module_name.startswith(err.name + ".")):
            raise IncompatibleModelError(f"model spec {spec!r}: importing {module_name!r} raised {_one_line(err)}; "
                                         "install what that module imports") from None
        raise IncompatibleModelError(f"model spec {spec!r}: cannot import module {module_name!r} ({err}); "
                                     "install the package or run from the folder that holds it") from None
    except Exception as err:  # noqa: BLE001  (the user's module failed while importing: say how, in one line)
        raise IncompatibleModelError(f"model spec {spec!r}: importing {module_name!r} raised {_one_line(err)}; "
                                     "fix the module so that it imports cleanly") from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise IncompatibleModelError(f"model spec {spec!r}: {module_name!r} has no attribute {attr_path!r}; "
                                         "name a function or class defined in that module")
        obj = getattr(obj, part)
    if not callable(obj):
        raise IncompatibleModelError(f"model spec {spec!r} names a {type(obj).__name__}, not a callable; "
                                     "expected a function or class that builds the model with no arguments")
    return obj


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _build(builder: Callable[[], object], spec: str) -> nn.Module:
    try:
        with _quiet():
            model = builder()
    except SystemExit as err:
        raise IncompatibleModelError(f"model spec {spec!r}: calling it called sys.exit({err.code!r}); expected a "
                                     "callable that returns the model") from None
    except Exception as err:  # noqa: BLE001  (a user's builder can raise anything)
        raise IncompatibleModelError(f"model spec {spec!r}: calling it with no arguments raised {_one_line(err)}; "
                                     "expected a callable that takes no arguments (wrap it in a function)") from None
    if not isinstance(model, nn.Module):
        raise IncompatibleModelError(f"model spec {spec!r} returned a {type(model).__name__}; expected a "
                                     "torch.nn.Module")
    return model


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A state dict from `.safetensors` or `.pt`/`.pth` (weights_only); never unpickles other objects."""
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise DataError(f"weights {path}: unknown suffix {suffix!r}; expected .safetensors, .pt or .pth; {SAVE_HINT}")
    if not path.is_file():
        raise DataError(f"weights {path}: no such file; check the path")
    try:
        state = load_file(path) if suffix == ".safetensors" else torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refused a global: a pickled object, not a state dict
        raise DataError(f"weights {path}: holds pickled objects other than tensors (e.g. a whole model), which "
                        f"limitlab never unpickles; expected a state dict; {SAVE_HINT}") from None
    except (OSError, RuntimeError, ValueError, EOFError, SafetensorError) as err:
        raise DataError(f"weights {path}: cannot be read as {suffix} ({_one_line(err)}); {SAVE_HINT}") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        kind = type(state).__name__ if not isinstance(state, Mapping) else "dict with non-tensor values"
        raise DataError(f"weights {path}: holds a {kind}; expected a state dict (parameter name -> tensor); "
                        f"{SAVE_HINT}")
    return dict(state)


def load_weights(model: nn.Module, state: Mapping[str, Tensor], *, name: str = "weights") -> None:
    """`model.load_state_dict(state)` after checking names and shapes, so a mismatch is one line."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected:
        hint = " (they start with 'module.': strip that prefix, it comes from DataParallel)" if unexpected and all(
            k.startswith("module.") for k in unexpected) else ""
        raise IncompatibleModelError(
            f"{name}: the state dict does not fit the model: missing {len(missing)} keys {_few(missing)}, "
            f"unexpected {len(unexpected)} keys {_few(unexpected)}{hint}; expected the state_dict() of the model "
            "the spec builds; pass the matching --model")
    if shapes:
        k = shapes[0]
        raise IncompatibleModelError(
            f"{name}: {len(shapes)} tensors have the wrong shape (first: {k!r} is {tuple(state[k].shape)}, the model "
            f"has {tuple(own[k].shape)}); expected the weights of this architecture; pass the matching --model")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise IncompatibleModelError(f"{name}: load_state_dict failed ({_one_line(err)}); expected the "
                                     "state_dict() of the model the spec builds") from None


def _few(keys: list[str], most: int = 3) -> str:
    return "[" + ", ".join(keys[:most]) + (", ..." if len(keys) > most else "") + "]"


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
