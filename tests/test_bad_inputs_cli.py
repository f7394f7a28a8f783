"""The bad-input corpus for `run`, `show` and `report`: each plausible mistake is one line `error: ...`
naming what was given and what was expected, exit 2, no traceback, and nothing written."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from limitlab.cli import main
from limitlab.result import SCHEMA_VERSION, Result

RUN = ["run", "adversarial", "--preset", "tiny"]


def _results(payload: object) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        (tmp / "bad").mkdir()
        data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        (tmp / "bad" / "results.json").write_bytes(data if isinstance(data, bytes) else data.encode())
    return write


def _good(**change) -> dict:
    r = Result("adversarial", "c.", "holds", "e.").to_dict()
    r.update(change)
    return {"limitlab": "0.1.0", "results": [r]}


def _file(name: str, content: bytes | str) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return write


def _run_folder(identity: dict) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        (tmp / "out" / "old").mkdir(parents=True)
        (tmp / "out" / "old" / "run.json").write_text(json.dumps(identity))
    return write


CASES = [
    # run: studies, presets, --set
    (["run", "nope"], None, ["unknown study 'nope'", "valid ids: backprop"]),
    (["run", "Adversarial"], None, ["unknown study 'Adversarial'"]),
    ([*RUN, "--set", "epz=1"], None, ["unknown config key 'epz'", "valid keys"]),
    ([*RUN, "--set", "eps=big"], None, ["eps='big' is not a valid float"]),
    ([*RUN, "--set", "eps=nan"], None, ["eps='nan'", "float"]),
    ([*RUN, "--set", "eps=inf"], None, ["eps='inf'", "float"]),
    ([*RUN, "--set", "eps=5"], None, ["eps=5.0", "expected"]),
    ([*RUN, "--set", "eps"], None, ["not of the form key=value"]),
    ([*RUN, "--set", "=5"], None, ["not of the form key=value"]),
    ([*RUN, "--set", "eps_grid=[0.1,"], None, ["eps_grid='[0.1,' is not a valid list", "expected e.g."]),
    ([*RUN, "--set", "eps_grid=a,b"], None, ["eps_grid item='a' is not a valid float", "expected tuple[float, ...]"]),
    ([*RUN, "--set", "num_test=3.5"], None, ["num_test='3.5' is not a valid int"]),
    ([*RUN, "--set", "adv_train=maybe"], None, ["adv_train='maybe' is not a valid bool"]),
    (["run", "eot", "--preset", "tiny", "--set", "scale_range=0.9,1,1.2"], None,
     ["scale_range=[0.9, 1.0, 1.2]", "expected two values"]),  # was a ValueError traceback
    ([*RUN, "--set", "calibration.bins=3"], None, ["names study 'calibration', which is not selected"]),
    ([*RUN, "--set", "nosuch.x=3"], None, ["names study 'nosuch'"]),
    (["run", "adversarial", "--preset", "huge"], None, ["unknown preset 'huge'", "valid presets: default"]),
    (["run", "adversarial", "--preset", ""], None, ["unknown preset ''"]),
    # run: config files
    ([*RUN, "--config", "missing.toml"], None, ["cannot read config file", "missing.toml"]),
    ([*RUN, "--config", "c.yaml"], _file("c.yaml", "eps: 1"), ["suffix '.yaml'", "expected .toml or .json"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", b"eps = 0.1\n\xff\xfe"), ["not UTF-8"]),
    ([*RUN, "--config", "c.json"], _file("c.json", '{"eps": NaN}'), ["NaN is not a number", "c.json"]),
    ([*RUN, "--config", "c.json"], _file("c.json", '{"eps": Infinity}'), ["Infinity is not a number"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "eps = inf\n"), ["eps=inf is not a finite number"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "eps = nan\n"), ["eps=nan is not a finite number"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "eps = = 1\n"), ["is not valid TOML"]),
    ([*RUN, "--config", "c.json"], _file("c.json", "[1, 2]"), ["holds a list", "expected a table"]),
    ([*RUN, "--config", "c.json"], _file("c.json", "{"), ["is not valid JSON"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "[calibration]\nbins = 3\n"), ["names study 'calibration'"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "[adversarial]\nnope = 3\n"), ["unknown config key 'nope'"]),
    ([*RUN, "--config", "c.toml"], _file("c.toml", "num_test = 'many'\n"), ["num_test='many' is not a valid int"]),
    ([*RUN, "--config", "d.toml"], lambda t: (t / "d.toml").mkdir(), ["cannot read config file"]),
    # run: seeds, jobs, threads, executors
    ([*RUN, "--seed", "-1"], None, ["--seed -1", "expected an integer from 0"]),
    ([*RUN, "--seed", str(2**64)], None, ["--seed 18446744073709551616", "expected an integer from 0"]),
    ([*RUN, "--seed", "x"], None, ["--seed", "invalid int value"]),
    ([*RUN, "--seed", str(2**32 - 1), "--seeds", "2"], None, ["--seeds 2", "seed + seeds - 1"]),
    ([*RUN, "--seeds", "0"], None, ["--seeds", "0; expected an integer >= 1"]),
    ([*RUN, "--seeds", "many"], None, ["--seeds", "'many' is not an integer"]),
    ([*RUN, "--jobs", "0"], None, ["--jobs", "0; expected an integer >= 1"]),
    ([*RUN, "--jobs", "-4"], None, ["--jobs", "-4; expected an integer >= 1"]),
    ([*RUN, "--threads", "0"], None, ["--threads", "0; expected an integer >= 1"]),
    ([*RUN, "--executor", "spark"], None, ["invalid choice: 'spark'"]),
    ([*RUN, "--bogus"], None, ["unrecognized arguments: --bogus"]),
    (["frobnicate"], None, ["invalid choice: 'frobnicate'"]),
    ([], None, ["required: command"]),
    # run: output folders and resume
    ([*RUN, "--out", "file"], _file("file", ""), ["cannot create the run folder", "it is a file"]),
    ([*RUN, "--resume"], None, ["--resume: no run in", "run without --resume"]),
    ([*RUN, "--resume", "nowhere"], None, ["--resume nowhere: not a limitlab run folder"]),
    ([*RUN, "--resume", "out/old"], _run_folder({"kind": "audit"}), ["that run has kind 'audit', not 'run'"]),
    ([*RUN, "--resume", "out/old"], _run_folder({"kind": "run", "preset": "tiny", "studies": {"calibration": {}}}),
     ["that run ran calibration, not adversarial"]),
    ([*RUN, "--resume", "out/old"], _run_folder({"kind": "run", "preset": "default", "studies": {}}),
     ["has preset 'default', not 'tiny'"]),
    # show / report: what is not a finished run
    (["show", "nowhere"], None, ["nowhere/results.json does not exist"]),
    (["report", "nowhere"], None, ["nowhere/results.json does not exist"]),
    (["show", "out/old"], _run_folder({"kind": "run"}), ["the run did not finish", "--resume"]),
    (["show", "bad"], _results(""), ["is not a limitlab results file"]),
    (["show", "bad"], _results(b"\xff\xfe\x00"), ["is not a limitlab results file"]),
    (["show", "bad"], _results("{"), ["is not a limitlab results file"]),
    (["show", "bad"], _results([1, 2]), ["is not a limitlab results file"]),
    (["show", "bad"], _results({"results": [3]}), ["a result is a int"]),
    (["show", "bad"], _results({"results": "x"}), ["is not a limitlab results file"]),
    (["show", "bad"], _results(_good(verdict="maybe")), ["verdict 'maybe' is not one of holds"]),
    (["show", "bad"], _results(_good(schema=1)), ["result schema 1 is not"]),
    (["show", "bad"], _results(_good(metrics=[1])), ["field 'metrics' is a list, not a dict"]),
    (["show", "bad"], _results(_good(metrics={"a": {"value": "x"}})), ["metric 'a' has value 'x'"]),
    (["show", "bad"], _results(_good(metrics={"a": {"nope": 1}})), ["is not a limitlab results file"]),
    (["show", "bad"], _results(_good(study="../../x")), ["study id '../../x'"]),
    (["show", "bad"], _results(_good(figures=[{"id": "../x", "title": "t", "panels": []}])), ["figure id '../x'"]),
    (["show", "bad"], _results(_good(figures=[{"id": "a", "title": "t", "panels": 3}])), ["panels must be a list"]),
    (["show", "bad"], _results(_good(claim=3)), ["field 'claim' is a int, not a str"]),
    (["report", "bad"], _results(_good(verdict="maybe")), ["verdict 'maybe'"]),
    (["report", "bad"], _results(_good(figures=[{"id": "../../x", "title": "t", "panels": []}])), ["figure id"]),
]


@pytest.mark.parametrize("argv, setup, words", CASES, ids=[" ".join(c[0])[:60] + f"#{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, monkeypatch, capsys, argv, setup, words):
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        setup(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = ["--out", "out"] if argv[:1] == ["run"] and "--out" not in argv else []
    code = main([*argv, *out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "something was written"


def test_show_accepts_the_results_file_for_its_folder(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text(json.dumps(_good()))
    assert main(["show", str(tmp_path / "r" / "results.json")]) == 0
    assert "adversarial" in capsys.readouterr().out


def test_schema_constant_is_current():
    assert Result("a", "c.", "holds", "e.").to_dict()["schema"] == SCHEMA_VERSION


def test_an_unwritable_model_cache_is_one_line_before_any_training(tmp_path, monkeypatch, capsys):
    (tmp_path / "cachefile").write_text("")
    monkeypatch.setenv("LIMITLAB_CACHE_DIR", str(tmp_path / "cachefile" / "sub"))
    monkeypatch.chdir(tmp_path)
    assert main([*RUN, "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the model cache") and "--no-cache" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_with_nothing_finished_leaves_nothing(tmp_path, monkeypatch, capsys):
    from limitlab.studies.adversarial import Adversarial

    def interrupt(self, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(Adversarial, "run", interrupt)
    monkeypatch.chdir(tmp_path)
    assert main([*RUN, "--out", "out", "--jobs", "1"]) == 130
    assert "interrupted" in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, content, words", [
    ("empty.npz", b"", "the file is empty"),
    ("text.pt", b"hello", "not a file torch.save wrote"),
    ("t.csv", b"a,b\n1,2\n", "no column named 'y'"),
    ("t.csv", b"a,y\nx,0\n", "a cell is not a number"),
    ("t.csv", b"a,y\n1,0.5\n", "non-integer values"),
    ("t.json", b"{}", "unknown suffix '.json'"),
])
def test_unreadable_data_files_are_one_data_error(tmp_path, name, content, words):
    from limitlab.data import load_arrays
    from limitlab.errors import DataError

    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=words):
        load_arrays(tmp_path / name, bounds=None)


def test_a_pickled_model_given_as_data_is_refused_unrun(tmp_path):
    import os
    import pickle

    import torch

    from limitlab.data import load_arrays
    from limitlab.errors import DataError

    marker = tmp_path / "ran"

    class Hostile:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"x": Hostile()}, f)
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")
    for name in ("evil.pt", "model.pt"):
        with pytest.raises(DataError, match="never unpickles"):
            load_arrays(tmp_path / name, bounds=None)
    assert not marker.exists()


def test_csv_tables_load_with_their_label_column(tmp_path):
    from limitlab.data import load_arrays

    (tmp_path / "t.csv").write_text("a,y,b\n1,0,2\n3,1,4\n")
    data = load_arrays(tmp_path / "t.csv", bounds=None)
    assert data.x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and data.y.tolist() == [0, 1]
