"""Typed, frozen study configs and their layered overrides.

A study's `Config` is a frozen dataclass whose every field has a default and whose `__post_init__`
checks ranges. Values come in layers: defaults -> preset -> file (TOML or JSON) -> `--set key=value`.
Each layer is validated against the dataclass's field types (nanoGPT's configurator rules, without
`exec`): an unknown key or a value of the wrong type is a `ConfigError` that lists the valid keys.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from limitlab.errors import ConfigError

C = TypeVar("C")

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null"}


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of every field of a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is not None:  # tuple[float, ...], float | None: the full spelling
        return str(tp).replace("typing.", "").replace("NoneType", "None")
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(key: str, tp: Any, value: Any) -> Any:
    """Turn `value` (a `--set` string, or a TOML/JSON value) into type `tp`, or raise ConfigError."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    is_str = isinstance(value, str)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and (value is None or (is_str and value.strip().lower() in _NONE)):
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(key, arg, value)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if origin is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(repr, args))}")
    if origin is tuple:
        items = value
        if is_str:
            text = value.strip()
            try:
                items = json.loads(text) if text.startswith("[") else [s for s in text.split(",") if s.strip()]
            except json.JSONDecodeError as err:
                raise ConfigError(f"{key}={value!r} is not a valid list ({err.msg} at character {err.pos}); "
                                  f"expected e.g. {key}=1,2,3 or {key}=[1,2,3]") from None
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{key}={value!r} is not a list; expected comma-separated values, e.g. {key}=1,2,3")
        item_tp = args[0] if args else str
        return tuple(_coerce(f"{key} item", item_tp, item) for item in items)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if is_str and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if is_str:
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
            raise ConfigError(f"{key}={value!r} is not a finite number; expected a finite float")
        if is_str:
            try:
                out = float(value.strip())
            except ValueError:
                pass
            else:
                if math.isfinite(out):
                    return out
    elif tp is str:
        if is_str:
            return value.strip() if value.strip() == value.strip('"') else value.strip().strip('"')
    else:
        raise ConfigError(f"{key} has a type limitlab cannot parse ({_type_name(tp)})")
    raise ConfigError(f"{key}={value!r} is not a valid {_type_name(tp)}")


def apply_overrides(config: C, values: Mapping[str, Any], *, source: str) -> C:
    """A copy of `config` with `values` applied after type checks; unknown keys are a ConfigError."""
    types_ = field_types(type(config))
    unknown = sorted(set(values) - set(types_))
    if unknown:
        raise ConfigError(
            f"unknown config key {unknown[0]!r} in {source}; valid keys: {', '.join(types_)}"
        )
    coerced = {}
    for key, value in values.items():
        try:
            coerced[key] = _coerce(key, types_[key], value)
        except ConfigError as err:
            raise ConfigError(f"{err} (in {source}; expected {_type_name(types_[key])})") from None
    return dataclasses.replace(config, **coerced)  # type: ignore[type-var]  # C is a config dataclass


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["eps=0.1", "steps=40"]` -> `{"eps": "0.1", "steps": "40"}`; values stay strings until typed."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r} is not of the form key=value; e.g. --set eps=0.1")
        out[key.strip()] = value
    return out


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML or JSON file of overrides. A table named after a study applies to that study only."""
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise ConfigError(f"config file {path} has suffix {path.suffix!r}; expected .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}; check the path") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text, parse_constant=_no_constant)
    except ConfigError as err:
        raise ConfigError(f"config file {path}: {err}") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        first = str(err).splitlines()[0]
        raise ConfigError(f"config file {path} is not valid {path.suffix[1:].upper()}: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} holds a {type(data).__name__}; expected a table of key = value")
    return data


def _no_constant(name: str) -> Any:
    # JSON's NaN / Infinity are not JSON numbers: refuse them here, as `--set` does.
    raise ConfigError(f"{name} is not a number a config file may hold; expected a finite value")


def resolve(
    config_cls: type[C],
    *,
    presets: Mapping[str, Mapping[str, Any]],
    preset: str = "default",
    file_values: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> C:
    """Build a config: defaults -> preset -> file -> overrides, each layer validated."""
    if preset != "default" and preset not in presets:
        valid = ", ".join(["default", *presets])
        raise ConfigError(f"unknown preset {preset!r}; valid presets: {valid}")
    config = config_cls()
    if preset != "default":
        config = apply_overrides(config, presets[preset], source=f"preset {preset!r}")
    if file_values:
        config = apply_overrides(config, file_values, source="the config file")
    if overrides:
        config = apply_overrides(config, overrides, source="--set")
    return config


@dataclass(frozen=True)
class Interval:
    """A number in a range: `Interval(0, 1, closed="right")` is (0, 1]; None for an open end."""

    lo: float | None = None
    hi: float | None = None
    closed: str = "both"  # "both" | "left" | "right" | "neither"

    def ok(self, v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        return ((self.lo is None or (v >= self.lo if left else v > self.lo))
                and (self.hi is None or (v <= self.hi if right else v < self.hi)))

    def describe(self) -> str:
        if self.hi is None:
            return f"{'>=' if self.closed in ('both', 'left') else '>'} {self.lo:g}"
        if self.lo is None:
            return f"{'<=' if self.closed in ('both', 'right') else '<'} {self.hi:g}"
        return (f"{'[' if self.closed in ('both', 'left') else '('}{self.lo:g}, {self.hi:g}"
                f"{']' if self.closed in ('both', 'right') else ')'}")


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of values (e.g. model names)."""

    values: tuple[Any, ...]

    def ok(self, v: Any) -> bool:
        return v in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.values))


@dataclass(frozen=True)
class Each:
    """A tuple whose every item satisfies `item`, with at least `min_len` items (and unique ones if asked)."""

    item: Any = None
    min_len: int = 0
    unique: bool = False

    def ok(self, v: Any) -> bool:
        return (isinstance(v, (tuple, list)) and len(v) >= self.min_len
                and (not self.unique or len(set(v)) == len(v))
                and (self.item is None or all(self.item.ok(x) for x in v)))

    def describe(self) -> str:
        what = f"items {self.item.describe()}" if self.item is not None else "items"
        size = f"at least {self.min_len} " if self.min_len else ""
        return f"{size}{'distinct ' if self.unique else ''}{what}".strip()


Constraint = Interval | OneOf | Each


class Checked:
    """Base of a study's Config: each field's range is declared once, in `constraints` (scikit-learn's
    `_parameter_constraints`), and checked when the frozen dataclass is built, with one message format
    that names the value given and the range expected. Rules over several fields go in `validate`.

        @dataclass(frozen=True)
        class AdversarialConfig(Checked):
            constraints: ClassVar = {"eps": Interval(0, 1, closed="right"), "pgd_steps": Interval(1)}
            eps: float | None = None
            pgd_steps: int = 10

    A None value is allowed wherever the field's type allows it (the constraint applies to the rest).
    """

    constraints: ClassVar[Mapping[str, Constraint]] = {}

    def __post_init__(self) -> None:
        for name, rule in self.constraints.items():
            value = getattr(self, name)
            if value is not None and not rule.ok(value):
                shown = list(value) if isinstance(value, tuple) else value
                raise ConfigError(f"{name}={shown!r}; expected {rule.describe()}")
        self.validate()

    def validate(self) -> None:
        """Cross-field rules: raise ConfigError (through `check`) when the fields do not fit together."""


def check(condition: bool, message: str) -> None:
    """Raise `ConfigError(message)` unless `condition`: for range checks in `__post_init__`."""
    if not condition:
        raise ConfigError(message)


def as_dict(config: Any) -> dict[str, Any]:
    """A config as JSON-ready plain data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))
