"""Programs run once each; a program the sandbox did not run leaves execution not measured."""
import limitlab.codeexec as codeexec
from limitlab.codeexec import Outcome
from limitlab.data.program_runs import measured, outcome_row, run_all


def test_each_program_runs_once_and_empty_ones_are_errors(monkeypatch):
    calls = []

    def fake_run(programs, *, timeout, jobs):
        calls.append(list(programs))
        return [Outcome("ok") if "pass" in p else Outcome("error", "NameError") for p in programs]

    monkeypatch.setattr(codeexec, "run_programs", fake_run)
    monkeypatch.setattr(codeexec, "sandbox_available", lambda: None)
    ran = run_all({"a": ["pass\n", "", "x\n"], "b": ["y\n"]}, timeout=0.1, jobs=1)
    assert calls == [["pass\n", "x\n", "y\n"]]  # one session, empty programs not sent
    assert [o.status for o in ran["a"]] == ["ok", "error", "error"] and ran["a"][1].error == "empty program"
    assert outcome_row(ran["a"]) == [1, 2, 0, 0, 0, "empty program 1, NameError 1"]
    assert measured(ran["a"]) and measured(ran["b"])


def test_without_a_sandbox_nothing_runs_and_nothing_is_measured(monkeypatch):
    monkeypatch.setattr(codeexec, "sandbox_available", lambda: "no seccomp here (planted)")
    monkeypatch.setattr(codeexec, "run_programs", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    ran = run_all({"a": ["pass\n"]}, timeout=0.1, jobs=1)
    assert ran["a"][0].status == "not-run" and not measured(ran["a"])
    assert outcome_row(ran["a"])[:5] == [0, 0, 0, 0, 1]
