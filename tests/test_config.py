"""Layered, typed config overrides."""
from dataclasses import dataclass

import pytest

from limitlab.config import apply_overrides, check, parse_assignments, read_config_file, resolve
from limitlab.errors import ConfigError


@dataclass(frozen=True)
class Demo:
    eps: float = 0.1
    steps: int = 10
    norm: str = "inf"
    grid: tuple[float, ...] = (0.0, 0.1)
    models: tuple[str, ...] = ("mlp",)
    flag: bool = False
    cap: int | None = None

    def __post_init__(self):
        check(self.eps >= 0, f"eps={self.eps}; expected >= 0")


PRESETS = {"tiny": {"steps": 2}}


def test_layers_apply_in_order():
    cfg = resolve(Demo, presets=PRESETS, preset="tiny", file_values={"steps": 3, "eps": 0.2},
                  overrides={"eps": "0.3"})
    assert (cfg.steps, cfg.eps) == (3, 0.3)


@pytest.mark.parametrize("raw, field, value", [
    ("0.05", "eps", 0.05), ("7", "steps", 7), ("0,0.5,1", "grid", (0.0, 0.5, 1.0)), ("[1, 2]", "grid", (1.0, 2.0)),
    ("cnn,mlp", "models", ("cnn", "mlp")), ("true", "flag", True), ("no", "flag", False), ("none", "cap", None),
    ("12", "cap", 12),
])
def test_strings_are_typed(raw, field, value):
    assert getattr(apply_overrides(Demo(), {field: raw}, source="--set"), field) == value


@pytest.mark.parametrize("field, raw", [("steps", "2.5"), ("eps", "abc"), ("flag", "maybe"), ("steps", True),
                                        ("eps", "nan"), ("cap", "x")])
def test_wrong_types_are_config_errors(field, raw):
    with pytest.raises(ConfigError, match=field):
        apply_overrides(Demo(), {field: raw}, source="--set")


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match="unknown config key 'epz'.*eps, steps, norm"):
        apply_overrides(Demo(), {"epz": "1"}, source="--set")


def test_range_checks_run_on_overrides():
    with pytest.raises(ConfigError, match="eps=-1.0; expected >= 0"):
        apply_overrides(Demo(), {"eps": "-1"}, source="--set")


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError, match="valid presets: default, tiny"):
        resolve(Demo, presets=PRESETS, preset="huge")


def test_assignments_and_files(tmp_path):
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    assert parse_assignments(["a=1"]) == {"a": "1"}
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["eps"])
    (tmp_path / "c.toml").write_text("eps = 0.2\n[adversarial]\nsteps = 3\n")
    assert read_config_file(tmp_path / "c.toml") == {"eps": 0.2, "adversarial": {"steps": 3}}
    (tmp_path / "bad.toml").write_text("eps = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_config_file(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="expected .toml or .json"):
        read_config_file(tmp_path / "c.yaml")


def test_declared_constraints_name_the_value_and_the_range():
    from dataclasses import dataclass
    from typing import ClassVar

    from limitlab.config import Checked, Each, Interval, OneOf

    @dataclass(frozen=True)
    class Demo(Checked):
        constraints: ClassVar = {"eps": Interval(0, 1, closed="right"), "steps": Interval(1),
                                 "models": Each(OneOf(("mlp", "cnn")), min_len=1, unique=True)}
        eps: float | None = 0.1
        steps: int = 3
        models: tuple[str, ...] = ("mlp",)

        def validate(self) -> None:
            check(self.steps < 100 or self.eps is None, "steps >= 100 needs eps=none")

    assert Demo(eps=None).eps is None and Demo(eps=1.0).eps == 1.0
    for kwargs, words in [({"eps": 0.0}, "eps=0.0; expected (0, 1]"), ({"steps": 0}, "steps=0; expected >= 1"),
                          ({"models": ("mlp", "rnn")}, "models=['mlp', 'rnn']; expected at least 1 distinct items "
                                                       "one of mlp, cnn"),
                          ({"models": ()}, "models=[]"), ({"steps": 200}, "needs eps=none")]:
        with pytest.raises(ConfigError) as err:
            Demo(**kwargs)
        assert words in str(err.value)
