"""`limitlab audit` end to end on a tiny model module written by the test."""
import json
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from limitlab.cli import main

NETS = """
import torch
from torch import nn

def build():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 24), nn.ReLU(), nn.Dropout(0.2), nn.Linear(24, 3))
"""


@pytest.fixture
def user_files(tmp_path, monkeypatch):
    (tmp_path / "audit_cli_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.syspath_prepend(str(tmp_path))
    import audit_cli_nets

    torch.manual_seed(3)
    model = audit_cli_nets.build()
    save_file(model.state_dict(), tmp_path / "model.safetensors")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(60, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=60)
    np.savez(tmp_path / "test.npz", x=x, y=y)
    return tmp_path


def test_audit_writes_a_report_of_every_section(user_files, capsys):
    out = user_files / "runs"
    argv = ["audit", "--model", "audit_cli_nets:build", "--weights", str(user_files / "model.safetensors"),
            "--data", str(user_files / "test.npz"), "--out", str(out), "--bounds", "0,255", "--mc-samples", "4"]
    assert main(argv) == 0
    latest = out / "latest"
    results = json.loads((latest / "results.json").read_text())["results"]
    assert [r["study"] for r in results] == ["audit-robustness", "audit-calibration", "audit-uncertainty", "audit-ood"]
    assert results[0]["config"]["eps_grid"][1] == pytest.approx(0.02 * 255, rel=1e-6)  # scaled to the bounds
    assert all(r["provenance"]["model_spec"] == "audit_cli_nets:build" and "versions" in r["provenance"] for r in results)
    assert results[0]["rerun"].startswith("limitlab audit --model audit_cli_nets:build")
    html = (latest / "index.html").read_text()
    assert "audit-calibration" in html and "data:image/png;base64," in html
    assert all((latest / f["file"]).exists() for r in results for f in r["figures"])
    assert "audit-ood" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--model", "audit_cli_nets"], "is not of the form 'package.module:callable'"),
    (["--model", "audit_cli_nets:build", "--sections", "robustness,speed"], "unknown audit section 'speed'"),
    (["--model", "audit_cli_nets:build", "--bounds", "0,1"], "outside the bounds (0.0, 1.0)"),
    (["--model", "audit_cli_nets:build", "--weights", "nope.pt"], "no such file"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(user_files, capsys, args, message):
    out = user_files / "runs"
    code = main(["audit", *args, "--data", str(user_files / "test.npz"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not out.exists()
