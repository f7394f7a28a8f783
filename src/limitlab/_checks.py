"""The argument checks every probe shares: one rule set, one message format, run once at the entrance.

A message reads "<name> <what was given>; expected <what is expected>[; <the fix>]". A check costs a
few reductions over the inputs (finiteness, a label range), once at a probe's entrance: nothing here
runs per step of a probe's loop.

- tensors: a `torch.Tensor` (numpy arrays and lists are refused with the conversion to use), of the
  expected rank, non-empty, floating point where a probe differentiates, with no NaN or Inf;
- labels: integer class labels of shape (N,) in 0..C-1;
- probabilities (`probs`): a float tensor (N, C) or (samples, N, C), finite, entries >= 0, every row
  summing to 1 within `PROB_ATOL` = 1e-3 (softmax outputs in float32 sum to 1 within ~1e-6);
- options: integers and numbers in range (bools are not numbers here), flags that are bools;
- models: an `nn.Module`, and outputs that are (N, C) logits.

Randomness, one rule for every probe: `generator: torch.Generator | None`, and `as_generator` turns
None into torch's global CPU generator (`torch.default_generator`): the stream torch's own random
functions use when given no generator. A probe called with None draws from and advances the global
stream, exactly as `torch.rand(...)` does; pass a generator to make it private and reproducible.
Layers that draw from the global stream themselves (dropout masks, `reset_parameters()`) run inside
`global_stream(generator)`, which makes the global generator draw from `generator`'s stream: so
`generator=torch.Generator().manual_seed(s)` gives exactly what seeding the global generator with s did.
"""
from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor, nn

from limitlab.errors import ConfigError, ConfigTypeError, DataError, DataTypeError, IncompatibleModelError

PROB_ATOL = 1e-3


def describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    return "None" if value is None else f"a {type(value).__name__}"


def shown(value: object) -> str:
    """`value` for a message: its repr if short, else what it is (a tensor's repr spans lines)."""
    text = repr(value)
    return text if len(text) <= 60 and "\n" not in text else describe(value)


def tensor(value: object, name: str, *, min_dim: int = 1, dims: tuple[int, ...] | None = None, spec: str = "",
           floating: bool = True, finite: bool = True) -> Tensor:
    """`value` if it is a non-empty tensor of the rank (`dims`, or at least `min_dim`) a probe can use."""
    spec = spec or "(N, ...) with the batch axis first"
    if not isinstance(value, Tensor):
        fix = f"torch.from_numpy({name})" if isinstance(value, np.ndarray) else f"torch.as_tensor({name})"
        raise DataTypeError(f"{name} is {describe(value)}; expected a torch.Tensor of shape {spec}; "
                            f"convert it with {fix}{'.float()' if floating else ''}")
    if (value.dim() not in dims) if dims is not None else value.dim() < min_dim:
        raise DataError(f"{name} has shape {tuple(value.shape)}; expected {spec}"
                        + (f"; add a batch axis with {name}.unsqueeze(0)" if dims is None and value.dim() == min_dim - 1
                           else ""))
    if value.numel() == 0:
        raise DataError(f"{name} is empty (shape {tuple(value.shape)}); expected at least one input")
    if floating and not value.is_floating_point():
        raise DataError(f"{name} has dtype {value.dtype}; expected a floating-point tensor; convert it with "
                        f"{name}.float()")
    if finite and value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise nonfinite(name, value)
    return value


def nonfinite(name: str, value: Tensor) -> DataError:
    bad = ~torch.isfinite(value)
    return DataError(f"{name} has {int(bad.sum())} NaN or infinite values of {value.numel()}; expected finite "
                     "values: drop or impute them first")


def labels(y: object, n: int, *, name: str = "y", num_classes: int | None = None) -> Tensor:
    """Integer class labels of shape (n,), in 0..num_classes-1 (only >= 0 when the classes are not known)."""
    if not isinstance(y, Tensor):
        raise DataTypeError(f"{name} is {describe(y)}; expected a torch.Tensor of integer labels of shape ({n},); "
                            f"convert it with torch.as_tensor({name}).long()")
    if y.shape != (n,) or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise DataError(f"{name} has shape {tuple(y.shape)} and dtype {y.dtype}; expected integer class labels "
                        f"of shape ({n},) (one per input; convert with {name}.long())")
    if n:
        lo, hi = int(y.min()), int(y.max())
        top = "C-1" if num_classes is None else num_classes - 1
        if lo < 0 or (num_classes is not None and hi >= num_classes):
            raise DataError(f"{name} has labels {lo}..{hi}; expected class labels in 0..{top}"
                            + (f" ({num_classes} classes)" if num_classes is not None else ""))
    return y


def probs(p: object, *, name: str = "probs", dims: tuple[int, ...] = (2, 3), y: object = None) -> Tensor:
    """Class probabilities: (N, C) or (samples, N, C), finite, non-negative, rows summing to 1; and, if
    `y` is given, N integer labels in 0..C-1."""
    spec = " or ".join({2: "(N, C)", 3: "(samples, N, C)"}[d] for d in dims)
    p = tensor(p, name, dims=dims, spec=f"{spec} class probabilities (apply softmax to logits first)")
    sums = p.sum(-1)
    if bool((p < 0).any()) or bool(((sums - 1).abs() > PROB_ATOL).any()):
        raise DataError(f"{name} has entries in [{float(p.min()):.4g}, {float(p.max()):.4g}] and row sums in "
                        f"[{float(sums.min()):.6g}, {float(sums.max()):.6g}]; expected probabilities (entries "
                        f">= 0, rows summing to 1); pass torch.softmax(logits, dim=-1), not logits")
    if y is not None:
        labels(y, p.shape[-2], num_classes=p.shape[-1])
    return p


def _range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return "" if high is None else f"{'<' if high_open else '<='} {high:g}"


def integer(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """An int (not a bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigTypeError(f"{name}={shown(value)} ({type(value).__name__}); expected an integer "
                              f"{_range(low, high, False, False)}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise ConfigError(f"{name}={value!r}; expected an integer {_range(low, high, False, False)}")
    return number


def number(name: str, value: object, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (not a bool) in the range."""
    expected = f"expected a finite number {_range(low, high, low_open, high_open)}".rstrip()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigTypeError(f"{name}={shown(value)} ({type(value).__name__}); {expected}")
    v = float(value)
    if not (math.isfinite(v) and (low is None or (v > low if low_open else v >= low))
            and (high is None or (v < high if high_open else v <= high))):
        raise ConfigError(f"{name}={value!r}; {expected}")
    return v


def flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigTypeError(f"{name}={shown(value)} ({type(value).__name__}); expected True or False")
    return bool(value)


def bounds(value: object) -> tuple[float, float]:
    """(low, high), both finite, low < high."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ConfigTypeError(f"bounds={shown(value)}; expected (low, high), e.g. (0.0, 1.0)")
    lo, hi = (number(f"bounds[{i}]", v) for i, v in enumerate(value))
    if lo >= hi:
        raise ConfigError(f"bounds={tuple(value)}; expected (low, high) with low < high")
    return lo, hi


def module(model: object, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise IncompatibleModelError(f"{name} is {describe(model)}; expected a torch.nn.Module (wrap a plain "
                                     "function in a module whose forward calls it)")
    return model


def logits(out: object, n: int, *, what: str = "the model") -> Tensor:
    """`out` if it is a tensor of (n, C) class scores, as a probe asking `what` for logits needs."""
    if not isinstance(out, Tensor) or out.dim() != 2 or len(out) != n:
        raise IncompatibleModelError(f"{what} returned {describe(out)} for {n} inputs; expected logits of shape "
                                     f"(N, C) with N = {n}; wrap the model so that forward returns class scores")
    return out


def as_generator(generator: object) -> torch.Generator:
    """The generator a probe draws from: `generator`, or torch's global generator for None."""
    if generator is None:
        return torch.default_generator
    if not isinstance(generator, torch.Generator):
        raise ConfigTypeError(f"generator={shown(generator)} ({type(generator).__name__}); expected a torch.Generator "
                              f"or None; pass torch.Generator().manual_seed(seed)")
    if generator.device.type != "cpu":
        raise ConfigError(f"generator is on {generator.device}; expected a CPU torch.Generator (limitlab runs on CPU)")
    return generator


@contextlib.contextmanager
def global_stream(generator: torch.Generator) -> Iterator[None]:
    """In the block, torch's global CPU generator draws from `generator`'s stream (for layers that take no
    generator: dropout masks, `reset_parameters()`); `generator` advances as if it had been used directly
    and the global stream is left as it was. The global generator itself is simply used."""
    if generator is torch.default_generator:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.set_rng_state(generator.get_state())
        try:
            yield
        finally:
            generator.set_state(torch.get_rng_state())
