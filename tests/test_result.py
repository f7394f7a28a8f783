"""Result: lossless JSON round trip; NaN never reaches JSON; verdicts come from the study's rule."""
import json

import numpy as np
import pytest
import torch

from limitlab.figures import lines, series
from limitlab.result import Figure, Metric, Result, Table, every, fmt, to_plain


def test_round_trip_is_lossless():
    r = Result("adversarial", "claim.", "holds", "because.", {"acc": Metric(0.5, "fraction", "d", 0.1, [0.4, 0.6])},
               [Figure("f", "t", [lines([series("a", [0, 1], [0.5, float("nan")])])])],
               [Table("t", ["a"], [[1]])], [{"title": "s", "text": "x"}], {"eps": [0.1]}, {"seed": 0})
    again = Result.from_json(r.to_json())
    assert again.to_dict() == r.to_dict()
    assert again.metrics["acc"].values == [0.4, 0.6]
    assert json.loads(r.to_json())["figures"][0]["panels"][0]["series"][0]["y"] == [0.5, None]


def test_to_plain_converts_tensors_arrays_and_non_finite():
    assert to_plain({"a": torch.tensor([1.0, float("inf")]), "b": np.float32(0.5), "c": (1, 2)}) == \
        {"a": [1.0, None], "b": 0.5, "c": [1, 2]}


def test_other_schema_versions_are_refused():
    data = Result("x", "c.", "holds", "e.").to_dict() | {"schema": 99}
    with pytest.raises(ValueError, match="schema 99"):
        Result.from_dict(data)


def test_metric_over_seeds_is_the_mean_and_sample_standard_deviation():
    m = Metric.over_seeds([1.0, 2.0, 4.0], "fraction", "d")
    assert m.value == pytest.approx(7 / 3)
    assert m.spread == pytest.approx(((4 / 3) ** 2 + (1 / 3) ** 2 + (5 / 3) ** 2) ** 0.5 / 2 ** 0.5)  # n - 1
    assert m.values == [1.0, 2.0, 4.0] and m.unit == "fraction"
    assert Metric.over_seeds([0.5]).spread is None


def test_every_and_fmt_say_not_measured():
    assert every([True, True]) is True
    assert every([True, None]) is None  # not measured: never holds, never a measured failure
    assert every([None, False]) is False
    assert fmt(0.256, ".0%") == "26%" and fmt(None, ".0%") == "n/a"
