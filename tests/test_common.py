"""The same checks over every registered study (DESIGN.md, "Tests and benchmarks")."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from limitlab.errors import ConfigError
from limitlab.report.figures import render
from limitlab.result import VERDICTS, Result
from limitlab.runner import Task, run_task
from limitlab.study import CATALOG, all_studies

STUDIES = all_studies()
IDS = [s.id for s in STUDIES]


@pytest.fixture(scope="module", params=IDS)
def tiny_runs(request, tmp_path_factory):
    """Each study's tiny preset run twice with the same seed and no cache."""
    task = Task(request.param, "tiny", {}, seed=0, cache_dir=None, threads=1)
    out = tmp_path_factory.mktemp(request.param)
    return run_task(task, out), run_task(task, out)


@pytest.mark.parametrize("cls", STUDIES, ids=IDS)
def test_declaration(cls):
    assert cls.__doc__ and len(cls.__doc__.strip()) > 20, "a study's docstring names its papers and sources"
    assert cls.rule().startswith("Verdict"), "the docstring states the verdict rule in a 'Verdict:' paragraph"
    assert cls.claim.strip().endswith("."), "the claim is one sentence"
    assert tuple(cls.sources) == CATALOG[cls.id][1]
    assert "tiny" in cls.presets
    config = cls.Config()
    assert dataclasses.is_dataclass(config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, dataclasses.fields(config)[0].name, None)


@pytest.mark.parametrize("cls", STUDIES, ids=IDS)
def test_unknown_key_is_rejected_with_the_valid_keys(cls):
    with pytest.raises(ConfigError) as err:
        cls.configure(overrides={"no_such_key": "1"})
    first = dataclasses.fields(cls.Config)[0].name
    assert "no_such_key" in str(err.value) and first in str(err.value)


def test_tiny_run_is_reproducible_and_round_trips(tiny_runs):
    first, second = tiny_runs
    assert first.verdict in VERDICTS and first.verdict != "error", first.error
    assert first.evidence and first.metrics
    assert {k: m.value for k, m in first.metrics.items()} == {k: m.value for k, m in second.metrics.items()}
    assert first.verdict == second.verdict
    again = Result.from_json(first.to_json())
    assert again.to_dict() == first.to_dict()


def test_tiny_run_figures_render(tiny_runs):
    result = tiny_runs[0]
    for figure in result.figures:
        png = render(figure)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", figure.id


def test_catalog_matches_the_spec():
    spec = Path(__file__).resolve().parents[2] / "shared" / "STUDIES.md"
    if not spec.exists():
        pytest.skip("shared/STUDIES.md is not beside this checkout")
    rows = re.findall(r"^\| ([a-z-]+) \| ([0-9, ]+) \| ([a-z]+) \|$", spec.read_text(), flags=re.M)
    assert {i: (ch, tuple(s.split(", "))) for i, s, ch in rows} == CATALOG
    assert set(IDS) <= set(CATALOG)
