"""The audit's optional inputs: the stratified subsample by counting, groups / OOD / training files read and
checked with one-line errors, the options carried to the subject, and the notebook object."""
import csv

import numpy as np
import pytest
import torch

import limitlab
from limitlab.audit import Options, build_subject
from limitlab.audit.inputs import load_groups, load_inputs, stratified_sample
from limitlab.audit.subject import outputs_of
from limitlab.errors import ConfigError, DataError
from tests.helpers import linear_model


def test_stratified_sample_keeps_each_labels_share_and_depends_only_on_the_seed():
    y = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    idx = stratified_sample(y, 10, generator=torch.Generator().manual_seed(0))
    assert len(idx) == 10 and len(set(idx.tolist())) == 10 and torch.equal(idx, idx.sort().values)
    assert torch.bincount(y[idx]).tolist() == [5, 3, 2]  # 50%, 30%, 20% of 10
    again = stratified_sample(y, 10, generator=torch.Generator().manual_seed(0))
    other = stratified_sample(y, 10, generator=torch.Generator().manual_seed(1))
    assert torch.equal(idx, again) and not torch.equal(idx, other)


def test_stratified_rounding_gives_the_remainders_to_the_largest_fractions():
    y = torch.tensor([0] * 7 + [1] * 7 + [2] * 6)  # 11 of 20: exact shares 3.85, 3.85, 3.3
    counts = torch.bincount(y[stratified_sample(y, 11, generator=torch.Generator().manual_seed(0))])
    assert counts.tolist() == [4, 4, 3]


def test_groups_from_names_in_a_csv_and_from_an_npz(tmp_path):
    path = tmp_path / "groups.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([["group"], ["b"], ["a"], ["b"], ["c"]])
    codes, names = load_groups(path, n=4)
    assert names == ("a", "b", "c") and codes.tolist() == [1, 0, 1, 2]
    np.savez(tmp_path / "g.npz", groups=np.array([3, 3, 7]))
    codes, names = load_groups(tmp_path / "g.npz", n=3)
    assert names == ("3", "7") and codes.tolist() == [0, 0, 1]


@pytest.mark.parametrize("text, n, names, codes", [
    ("0\n1\n0\n2\n", 4, ("0", "1", "2"), [0, 1, 0, 2]),  # no header: np.savetxt's default
    ("g\n0\n1\n0\n2\n", 4, ("0", "1", "2"), [0, 1, 0, 2]),  # a header
    ("group\n1\n0\n1\n", 4, ("0", "1"), [1, 0, 1]),  # a header and a value missing: counted, not read as a group
    ("north\nsouth\nnorth\n", 3, ("north", "south"), [0, 1, 0]),  # names, no header
])
def test_a_groups_csv_header_is_optional(tmp_path, text, n, names, codes):
    (tmp_path / "g.csv").write_text(text)
    if len(codes) != n:
        with pytest.raises(DataError, match=rf"holds \({len(codes)},\) group ids for {n} test inputs"):
            load_groups(tmp_path / "g.csv", n=n)
        return
    got_codes, got_names = load_groups(tmp_path / "g.csv", n=n)
    assert got_names == names and got_codes.tolist() == codes


@pytest.mark.parametrize("groups, message", [
    (np.zeros(5, dtype=int), "expected shape (6,)"),
    (np.zeros(6, dtype=int), "expected at least two groups"),
    (np.array([0.5, 1, 1, 0, 0, 1]), "fractional"),
])
def test_bad_groups_are_one_line(groups, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_groups(groups, n=6)


def test_ood_files_need_the_test_inputs_shape(tmp_path):
    np.savez(tmp_path / "ood.npz", x=np.zeros((12, 3), np.float32))
    assert load_inputs(tmp_path / "ood.npz", shape=(3,)).shape == (12, 3)
    with pytest.raises(DataError, match=r"expected \(N, 4\)"):
        load_inputs(tmp_path / "ood.npz", shape=(4,))
    np.savez(tmp_path / "few.npz", x=np.zeros((3, 3), np.float32))
    with pytest.raises(DataError, match="expected at least 10"):
        load_inputs(tmp_path / "few.npz", shape=(3,))
    (tmp_path / "table.csv").write_text("a,b,c\n" + "1,2,3\n" * 10)  # a table with no label column is fine here
    assert load_inputs(tmp_path / "table.csv", shape=(3,)).tolist()[0] == [1.0, 2.0, 3.0]


def test_options_carried_to_the_subject_and_the_subsample_is_the_one_drawn():
    model = linear_model(4, 3, seed=0)
    x = torch.rand(90, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(90) % 3
    groups = (torch.arange(90) // 45).numpy()
    s = build_subject(model, x, y, options=Options(max_inputs=30, groups=groups, ood=torch.rand(20, 4),
                                                   train=(x, y), batch_size=7, sample_seed=5))
    keep = stratified_sample(y, 30, generator=torch.Generator().manual_seed(5))
    assert torch.equal(s.x, x[keep]) and torch.equal(s.y, y[keep]) and s.sampled == (30, 90)
    assert torch.equal(s.groups, torch.from_numpy(groups)[keep]) and s.group_names == ("0", "1")
    assert s.ood_x.shape == (20, 4) and s.train[0].shape == (90, 4) and s.batch_size == 7
    assert "30 of 90 inputs" in s.about["sample"]
    full = build_subject(model, x, y)
    assert torch.allclose(outputs_of(s.raw, x, batch=7), outputs_of(full.raw, x), atol=1e-6)


@pytest.mark.parametrize("options, error, message", [
    ({"max_inputs": 3}, ConfigError, "max_inputs=3; expected at least 10"),
    ({"batch_size": 0}, ConfigError, "batch_size=0; expected an integer >= 1"),
    ({"device": "tpu"}, ConfigError, "device='tpu'; expected auto, cpu, cuda or cuda:N"),
    ({"layer": "conv9"}, ConfigError, "layer='conv9' is not a module of the model"),
    ({"train": (torch.rand(20, 5), torch.zeros(20, dtype=torch.long))}, DataError, "shaped like the test inputs"),
    ({"ood": torch.rand(20, 2, 2)}, DataError, "shaped like the test inputs"),
])
def test_bad_options_are_one_line_before_any_work(options, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_subject(linear_model(4, 3, seed=0), torch.rand(20, 4), torch.arange(20) % 3,
                      options=Options(**options))


def test_the_audit_returns_a_report_object_for_notebooks_and_scripts(tmp_path):
    model = linear_model(4, 3, seed=0)
    x = torch.rand(60, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)
    report = limitlab.audit(model, x, y, sections="calibration", preset="tiny")
    assert [r.study for r in report] == ["audit-preflight", "audit-calibration"]
    assert report["calibration"] is report[1] and report["audit-calibration"] is report[1]
    assert repr(report).startswith("<AuditReport of ") and "calibration " in repr(report)
    assert "<table>" in report._repr_html_()
    with pytest.raises(ConfigError, match="no section 'ood' in this audit"):
        report["ood"]
    run_dir = report.save(tmp_path / "runs")
    assert (run_dir / "index.html").is_file() and (run_dir / "results.json").is_file()
    assert any(p.suffix == ".png" for p in (run_dir / "figures").iterdir())


def test_a_section_that_cannot_run_is_left_out_and_named_and_asking_for_it_is_an_error(monkeypatch):
    from limitlab.audit.uncertainty import Uncertainty

    monkeypatch.setattr(Uncertainty, "missing", classmethod(lambda cls, s: "needs what this model lacks"))
    model = linear_model(4, 3, seed=0)
    x = torch.rand(40, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(40) % 3
    report = limitlab.audit(model, x, y, sections=None, preset="tiny",
                            settings={"robustness.eps_grid": (0.1,), "robustness.square_queries": 2})
    assert "audit-uncertainty" not in [r.study for r in report]
    assert report.subject["not_run"] == {"uncertainty": "needs what this model lacks",
                                         "attribution": "needs image inputs (N, C, H, W); the data is (N, 4)",
                                         "remedies": "needs --train FILE (labelled training inputs to fine-tune on)"}
    with pytest.raises(ConfigError, match="section 'uncertainty' cannot run on this model and data: needs what"):
        limitlab.audit(model, x, y, sections="uncertainty", preset="tiny")
