"""A run killed with SIGKILL is resumed: what finished is kept (not recomputed), the rest is run, and the
metrics are those of an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STUDIES = ["backprop", "approximation", "scale"]


def limitlab(*args: str, cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "limitlab", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def metrics(run_dir: Path) -> dict:
    return {r["study"]: {k: m["value"] for k, m in r["metrics"].items()}
            for r in json.loads((run_dir / "results.json").read_text())["results"]}


def test_a_killed_run_resumes_without_recomputing_what_finished(tmp_path):
    env = dict(os.environ, LIMITLAB_CACHE_DIR=str(tmp_path / "cache"))
    args = ["run", *STUDIES, "--preset", "tiny", "--jobs", "1", "--out", "runs"]
    proc = limitlab(*args, cwd=tmp_path, env=env)
    first = tmp_path / "runs" / "latest" / "studies" / f"{STUDIES[0]}.seed0.json"
    deadline = time.monotonic() + 120
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.exists(), "the first study did not finish in time"
    killed = (tmp_path / "runs" / "latest").resolve()
    assert not (killed / "results.json").exists(), "the run finished before it was killed: nothing to resume"
    kept = first.read_bytes()

    done = limitlab(*args, "--resume", cwd=tmp_path, env=env)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert (tmp_path / "runs" / "latest").resolve() == killed, "resume continued the killed run's folder"
    assert first.read_bytes() == kept, "a finished task was recomputed"
    assert f"{STUDIES[0]} (seed 0): holds kept from the earlier run" in err or "kept from the earlier run" in err

    clean = limitlab("run", *STUDIES, "--preset", "tiny", "--jobs", "1", "--out", "clean", cwd=tmp_path, env=env)
    clean.communicate(timeout=300)
    assert metrics(killed) == metrics(tmp_path / "clean" / "latest")


def test_resume_never_continues_a_run_of_other_studies(tmp_path):
    env = dict(os.environ, LIMITLAB_CACHE_DIR=str(tmp_path / "cache"))
    first = limitlab("run", "backprop", "--preset", "tiny", "--jobs", "1", "--out", "runs", cwd=tmp_path, env=env)
    first.communicate(timeout=300)
    before = (tmp_path / "runs" / "latest" / "results.json").read_bytes()
    other = limitlab("run", "approximation", "--preset", "tiny", "--resume", "--out", "runs", cwd=tmp_path, env=env)
    _, err = other.communicate(timeout=300)
    assert other.returncode == 2 and err.startswith("error: --resume: no run in runs")
    assert (tmp_path / "runs" / "latest" / "results.json").read_bytes() == before
