"""The Ray executor against a real local Ray cluster, started by the test and stopped after it.

Ray listens on the machine's own address and on every interface unless confined, so the cluster and
the driver run inside a private network namespace with only loopback (and a PID namespace, so every
process started in it dies with it): `unshare --net --pid --fork --mount-proc`, as root."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).parent / "ray" / "scenario.py"


def _namespace_reason() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed (pip install 'limitlab[ray]')"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is not available, so Ray cannot be confined to a private network namespace"
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", "-c", "ip link set lo up"],
                           capture_output=True)
    if probe.returncode != 0:
        return f"cannot create a private network namespace here ({probe.stderr.decode().strip()[:120]})"
    return None


REASON = _namespace_reason()


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_sweep_on_a_real_ray_cluster_streams_resumes_and_matches_local(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", "-c",
                           f'ip link set lo up && exec "{sys.executable}" "{SCENARIO}" "{tmp_path}"'],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["streamed_before_kill"], "no task result was written before the driver was killed"
    assert seen["kept"] >= 1
    assert seen["resume_code"] == 0, seen["resume_err"]
    assert "kept from the earlier run" in seen["resume_err"]
    assert seen["kept_unchanged"], "a task finished before the kill was recomputed"
    assert seen["local_code"] == 0 and seen["same_metrics"], "Ray and the local executor disagree"
    assert seen["dead_code"] == 2 and seen["dead_err"].startswith("error: cannot reach the Ray cluster at 127.0.0.1:1")
    assert seen["dead_err"].count("\n") == 1 and seen["dead_left_nothing"]
