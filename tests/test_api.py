"""The Python API gives what the command line gives, prints short, and turns into a DataFrame."""
from __future__ import annotations

import json

import pytest

import limitlab
from limitlab.cli import main
from limitlab.result import Metric, Result

IDS = ["backprop", "scale"]


@pytest.fixture(scope="module")
def cli_and_api(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", *IDS, "--preset", "tiny", "--seeds", "2", "--jobs", "1", "--out", str(out)]) == 0
    cli = json.loads((out / "latest" / "results.json").read_text())["results"]
    api = limitlab.run(IDS, preset="tiny", seeds=2)
    return cli, api


def test_run_from_python_gives_the_cli_metrics_bit_for_bit(cli_and_api):
    cli, api = cli_and_api
    assert [r.study for r in api] == IDS
    for c, a in zip(cli, api):
        assert {k: m["values"] for k, m in c["metrics"].items()} == {k: m.values for k, m in a.metrics.items()}
        assert c["verdict"] == a.verdict and [s["verdict"] for s in c["seeds"]] == [s["verdict"] for s in a.seeds]


def test_results_print_short_and_render_in_a_notebook(cli_and_api):
    _, api = cli_and_api
    text = repr(api[0])
    assert text.startswith("<Result backprop: ") and "on 2/2 seeds" in text and len(text) < 120
    r = Result("adversarial", "c.", "holds", "<b>e</b>", {"m<x>": Metric(0.5, "fraction", "d&")})
    html = r._repr_html_()
    assert "&lt;b&gt;e&lt;/b&gt;" in html and "m&lt;x&gt;" in html and "0.5" in html and "<b>" not in html[30:60]
    assert "<table>" in api._repr_html_() and "backprop" in api._repr_html_()


def test_to_frame_has_one_row_per_study_seed_and_metric(cli_and_api):
    pd = pytest.importorskip("pandas")
    _, api = cli_and_api
    frame = limitlab.to_frame(api)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == sum(len(r.metrics) * 2 for r in api)
    r = api[0]
    name, m = next(iter(r.metrics.items()))
    rows = frame[(frame.study == r.study) & (frame.metric == name)]
    assert rows.seed.tolist() == [0, 1] and rows.value.tolist() == m.values
    assert set(rows.spread) == {m.spread} and rows.unit.iloc[0] == m.unit


def test_studies_lists_the_registry():
    infos = limitlab.studies()
    assert [i.id for i in infos][:2] == ["backprop", "approximation"] and len(infos) == 18
    assert all(i.claim.endswith(".") and i.sources for i in infos)


def test_bad_python_calls_are_limitlab_errors():
    from limitlab.errors import ConfigError

    for call in (lambda: limitlab.run("nope"), lambda: limitlab.run("backprop", jobs=0),
                 lambda: limitlab.run("backprop", seed=-1), lambda: limitlab.run("backprop", nosuchkey=1),
                 lambda: limitlab.run("backprop", executor="spark")):
        with pytest.raises(ConfigError):
            call()


def test_a_python_sweep_matches_single_runs_and_writes_its_tables(tmp_path):
    done = limitlab.sweep("backprop", grid={"lr": [0.05, 0.2]}, preset="tiny", seeds=2, out=tmp_path)
    assert [s["lr"] for s in done.settings] == [0.05, 0.2] and len(done.results) == 2
    single = limitlab.run("backprop", preset="tiny", seeds=2, lr=0.2)[0]
    assert {k: m.values for k, m in done.results[1].metrics.items()} == {k: m.values for k, m in single.metrics.items()}
    table = (done.run_dir / "sweep.csv").read_text().splitlines()
    assert table[0] == "point,lr,seed,verdict,metric,value,unit"
    assert len(table) == 1 + 2 * 2 * len(single.metrics)
    payload = json.loads((done.run_dir / "sweep.json").read_text())
    assert [p["settings"] for p in payload["points"]] == [{"lr": 0.05}, {"lr": 0.2}]
    assert (done.run_dir / "index.html").exists() and list((done.run_dir / "figures").glob("backprop-metrics-*.png"))


def test_a_sweep_resumes_without_recomputing(tmp_path, monkeypatch):
    from limitlab.studies.backprop import Backprop

    first = limitlab.sweep("backprop", grid={"lr": [0.05, 0.2]}, preset="tiny", out=tmp_path)
    kept = {p.name: p.read_bytes() for p in (first.run_dir / "studies").glob("*.json")}
    (first.run_dir / "studies" / "backprop.p001.seed0.json").unlink()
    calls = []
    original = Backprop.run
    monkeypatch.setattr(Backprop, "run", lambda self, ctx: calls.append(self.config.lr) or original(self, ctx))
    again = limitlab.sweep("backprop", grid={"lr": [0.05, 0.2]}, preset="tiny", out=tmp_path, resume=True)
    assert calls == [0.2] and again.run_dir == first.run_dir
    assert (again.run_dir / "studies" / "backprop.p000.seed0.json").read_bytes() == kept["backprop.p000.seed0.json"]
