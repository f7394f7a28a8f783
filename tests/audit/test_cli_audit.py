"""`limitlab audit` end to end on small model modules written by the test."""
import hashlib
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

class Fussy(nn.Module):
    '''Refuses batches of more than 100 inputs: the MC-dropout passes (batched) crash, nothing else does.'''
    def __init__(self):
        super().__init__()
        self.net = build()
    def forward(self, x):
        if len(x) > 100:
            raise RuntimeError("out of memory (pretend)")
        return self.net(x)

def fussy():
    return Fussy()

def thresholded():
    return nn.Sequential(Step(), build())

class Step(nn.Module):
    def forward(self, x):
        return (x > 128).float() * 255
"""


@pytest.fixture
def user_files(tmp_path, monkeypatch):
    (tmp_path / "audit_cli_nets.py").write_text(textwrap.dedent(NETS))
    monkeypatch.syspath_prepend(str(tmp_path))
    import audit_cli_nets

    torch.manual_seed(3)
    save_file(audit_cli_nets.build().state_dict(), tmp_path / "model.safetensors")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(60, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=60)
    np.savez(tmp_path / "te<st>.npz", x=x, y=y)  # a file name the report must escape
    return tmp_path


def argv(files, *extra, model="audit_cli_nets:build"):
    return ["audit", "--model", model, "--data", str(files / "te<st>.npz"), "--out", str(files / "runs"),
            "--preset", "tiny", *extra]


def test_audit_writes_a_report_of_every_section_with_the_files_it_audited(user_files, capsys):
    weights = user_files / "model.safetensors"
    assert main(argv(user_files, "--weights", str(weights), "--bounds", "0,255", "--set",
                     "robustness.pgd_restarts=2")) == 0
    latest = user_files / "runs" / "latest"
    results = json.loads((latest / "results.json").read_text())["results"]
    assert [r["study"] for r in results] == ["audit-preflight", "audit-robustness", "audit-corruption",
                                             "audit-calibration", "audit-uncertainty", "audit-ood", "audit-slices"]
    assert results[1]["config"]["pgd_restarts"] == 2
    subject = results[0]["provenance"]["subject"]
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert subject["model"] == "audit_cli_nets:build" and subject["sha256"]["weights"] == digest
    assert subject["not_run"] == {"attribution": "no convolutional layer: pass --layer NAME",
                                  "remedies": "needs --train FILE (labelled training inputs to fine-tune on)"}
    assert json.loads((latest / "run.json").read_text())["kind"] == "audit"
    assert results[1]["rerun"].startswith("limitlab audit --model audit_cli_nets:build")
    html = (latest / "index.html").read_text()
    assert digest in html and "te&lt;st&gt;.npz" in html and "te<st>" not in html
    assert "Pre-flight checks" in html and "data:image/png;base64," in html
    assert all((latest / f["file"]).exists() for r in results for f in r["figures"])
    out = capsys.readouterr().out
    assert out.index("Pre-flight checks") < out.index("audit-robustness")


def test_groups_and_training_files_give_the_per_group_slices_and_the_remedies(user_files):
    weights = user_files / "model.safetensors"
    names = np.array(["north", "south", "east"])[np.arange(60) % 3]
    (user_files / "groups.csv").write_text("region\n" + "\n".join(names) + "\n")
    rng = np.random.default_rng(1)
    np.savez(user_files / "train.npz", x=rng.uniform(0, 255, size=(80, 1, 4, 4)).astype(np.float32),
             y=rng.integers(0, 3, size=80))
    before = weights.read_bytes()
    assert main(argv(user_files, "--weights", str(weights), "--bounds", "0,255", "--groups",
                     str(user_files / "groups.csv"), "--train", str(user_files / "train.npz"))) == 0
    results = {r["study"]: r for r in json.loads((user_files / "runs" / "latest" / "results.json").read_text())
               ["results"]}
    slices, remedies = results["audit-slices"]["metrics"], results["audit-remedies"]["metrics"]
    for k, name in enumerate(["east", "north", "south"]):  # codes in sorted order of the names
        assert slices[f"n_group_{k}"]["value"] == 20 and name in slices[f"acc_group_{k}"]["description"]
    assert remedies["num_train"]["value"] == 80 and remedies["steps"]["value"] >= 1
    assert weights.read_bytes() == before
    html = (user_files / "runs" / "latest" / "index.html").read_text()
    assert "audit-remedies" in html and "group &#39;north&#39;" in html
    assert "remedies" not in results["audit-preflight"]["provenance"]["subject"].get("not_run", {})


def test_a_section_that_crashes_leaves_the_others_in_the_run_folder(user_files, capsys):
    assert main(argv(user_files, "--bounds", "0,255", model="audit_cli_nets:fussy")) == 1
    results = json.loads((user_files / "runs" / "latest" / "results.json").read_text())["results"]
    verdicts = {r["study"]: r["verdict"] for r in results}
    assert verdicts.pop("audit-uncertainty") == verdicts.pop("audit-ood") == "error"  # both run MC dropout
    assert "error" not in verdicts.values() and len(verdicts) == 5
    assert (user_files / "runs" / "latest" / "index.html").exists()


def test_a_model_without_an_input_gradient_is_audited_not_refused(user_files):
    assert main(argv(user_files, "--bounds", "0,255", model="audit_cli_nets:thresholded")) == 0
    results = json.loads((user_files / "runs" / "latest" / "results.json").read_text())["results"]
    assert {r["study"]: r["verdict"] for r in results}["audit-robustness"] == "unreliable"


@pytest.mark.slow
def test_spawned_workers_give_the_numbers_of_the_in_process_run(user_files):
    extra = ("--weights", str(user_files / "model.safetensors"), "--bounds", "0,255", "--sections", "calibration,ood")
    assert main(argv(user_files, *extra)) == 0
    one = json.loads((user_files / "runs" / "latest" / "results.json").read_text())["results"]
    assert main(argv(user_files, *extra, "--jobs", "2")) == 0
    two = json.loads((user_files / "runs" / "latest" / "results.json").read_text())["results"]
    assert [r["metrics"] for r in one] == [r["metrics"] for r in two]


@pytest.mark.parametrize("args, message", [
    (["--model", "audit_cli_nets"], "is not of the form 'package.module:callable'"),
    (["--sections", "robustness,speed"], "unknown audit section 'speed'"),
    (["--bounds", "0,1"], "values outside the bounds (given"),
    (["--weights", "nope.pt"], "no such file"),
    (["--set", "robustness.nope=1"], "unknown config key 'nope' for audit-robustness"),
    (["--set", "robustness.pgd_steps=0"], "pgd_steps=0; expected >= 1"),
    (["--normalize", "0.5,0.5,0.5"], "--normalize '0.5,0.5,0.5'; expected MEAN,STD"),
    (["--bounds", "missing.npz"], "neither LO,HI nor an existing file"),
    (["--groups", "missing.csv"], "missing.csv: no such file"),
    (["--ood", "missing.npz"], "missing.npz: no such file"),
    (["--train", "missing.npz"], "missing.npz: no such file"),
    (["--max-inputs", "0"], "expected an integer >= 1"),
    (["--max-inputs", "5"], "max_inputs=5; expected at least 10"),
    (["--batch-size", "x"], "is not an integer"),
    (["--device", "cuda:0"] if not torch.cuda.is_available() else ["--device", "tpu"], "device="),
    (["--layer", "conv9"], "layer='conv9' is not a module of the model"),
    (["--set", "robustness.unbounded_eps=0.2"], "unbounded_eps=0.2; expected more than the largest eps"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(user_files, capsys, args, message):
    base = ["audit", "--model", "audit_cli_nets:build", "--data", str(user_files / "te<st>.npz"),
            "--out", str(user_files / "runs")]
    if args[0] == "--model":
        base[2] = args[1]
        args = []
    code = main([*base, *args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (user_files / "runs").exists()
