"""The command line end to end: outputs, exit codes, bad input, resume."""
import json
import os

import pytest

from limitlab.cli import main
from limitlab.studies.adversarial import Adversarial
from limitlab.studies.calibration import Calibration

FAST = ["--set", "adversarial.num_test=16", "--set", "adversarial.adv_train=false"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", "adversarial", "--preset", "tiny", "--out", str(out), *FAST]) == 0
    return out


def test_run_writes_results_report_figures_and_latest(run_dir):
    latest = run_dir / "latest"
    assert latest.is_symlink()
    payload = json.loads((latest / "results.json").read_text())
    result = payload["results"][0]
    assert {"study", "claim", "verdict", "evidence", "metrics", "figures", "config", "provenance"} <= set(result)
    assert result["config"]["num_test"] == 16 and result["config"]["adv_train"] is False
    html = (latest / "index.html").read_text()
    assert "data:image/png;base64," in html and result["evidence"].split(",")[0] in html
    assert all((latest / f["file"]).exists() for f in result["figures"])
    assert "--set num_test=16" in result["rerun"]


def test_show_and_report_reread_the_run(run_dir, capsys):
    assert main(["show", str(run_dir / "latest")]) == 0
    assert "adversarial" in capsys.readouterr().out
    (run_dir / "latest" / "index.html").unlink()
    pngs = {p.name: p.read_bytes() for p in (run_dir / "latest" / "figures").glob("*.png")}
    for name in pngs:
        (run_dir / "latest" / "figures" / name).unlink()
    assert main(["report", str(run_dir / "latest")]) == 0
    assert (run_dir / "latest" / "index.html").exists()
    # every figure drawn again, the same bytes as the run drew them (there, in the background process)
    assert len(pngs) > 1 and {p.name: p.read_bytes() for p in (run_dir / "latest" / "figures").glob("*.png")} == pngs


def test_resume_skips_finished_studies(run_dir, monkeypatch):
    def boom(self, ctx):
        raise AssertionError("a finished study was run again")

    monkeypatch.setattr(Adversarial, "run", boom)
    args = ["run", "adversarial", "--preset", "tiny", "--out", str(run_dir), "--resume", "--jobs", "1", *FAST]
    assert main(args) == 0


@pytest.mark.parametrize("argv, message", [
    (["run", "nope"], "unknown study 'nope'; valid ids: backprop, approximation"),
    (["run", "adversarial", "--set", "epz=1"], "unknown config key 'epz'"),
    (["run", "adversarial", "--set", "eps=big"], "eps='big' is not a valid float"),
    (["run", "adversarial", "--set", "eps=5"], "eps=5.0; expected (0, 1]"),
    (["run", "adversarial", "--set", "eps"], "not of the form key=value"),
    (["run", "adversarial", "--preset", "huge"], "unknown preset 'huge'"),
    (["run", "adversarial", "--config", "missing.toml"], "cannot read config file"),
    (["run", "adversarial", "--set", "calibration.bins=3"], "names study 'calibration', which is not selected"),
    (["show", "nowhere"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    code = main([*argv, "--out", str(tmp_path / "out")] if argv[0] == "run" else argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder(tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o500)
    if os.access(tmp_path / "ro", os.W_OK):
        pytest.skip("running as a user who can write anywhere (root)")
    assert main(["run", "adversarial", "--out", str(tmp_path / "ro" / "x")]) == 2
    assert "cannot create the run folder" in capsys.readouterr().err


def test_output_folder_that_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["run", "adversarial", "--preset", "tiny", "--out", str(tmp_path / "file")]) == 2
    assert "cannot create the run folder" in capsys.readouterr().err


def test_a_crashing_study_is_recorded_and_the_suite_goes_on(tmp_path, monkeypatch, capsys):
    def boom(self, ctx):
        raise RuntimeError("deliberate")

    monkeypatch.setattr(Calibration, "run", boom)
    code = main(["run", "calibration", "adversarial", "--preset", "tiny", "--out", str(tmp_path), "--jobs", "1", *FAST])
    assert code == 1
    results = {r["study"]: r for r in json.loads((tmp_path / "latest" / "results.json").read_text())["results"]}
    assert results["calibration"]["verdict"] == "error" and "deliberate" in results["calibration"]["error"]
    assert results["adversarial"]["verdict"] != "error"


def test_seeds_report_mean_and_spread(tmp_path):
    assert main(["run", "adversarial", "--preset", "tiny", "--seeds", "2", "--out", str(tmp_path), *FAST]) == 0
    result = json.loads((tmp_path / "latest" / "results.json").read_text())["results"][0]
    metric = result["metrics"]["clean_acc_cnn"]
    assert len(metric["values"]) == 2 and metric["value"] == pytest.approx(sum(metric["values"]) / 2)
    assert result["provenance"]["seeds"] == [0, 1] and "--seeds 2" in result["rerun"]


def test_list_shows_every_study(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "adversarial" in out and "calibration" in out
