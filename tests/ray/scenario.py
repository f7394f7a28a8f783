"""Run inside a private network + PID namespace (see tests/test_ray.py): a real local Ray cluster, a tiny
sweep through it, a SIGKILL of the driver mid-sweep and a resume, compared with the local executor.
Prints one JSON line with what it saw; every process it started dies with the namespace."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
RAY = str(Path(PY).with_name("ray"))
ADDRESS = "127.0.0.1:6380"
work = Path(sys.argv[1])
env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", LIMITLAB_CACHE_DIR=str(work / "cache"))


def limitlab(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "limitlab", *args], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def sweep_args(out: str, *extra: str) -> list[str]:
    return ["sweep", "approximation", "--preset", "tiny", "--grid", "epochs=20,40", "--seeds", "2",
            "--out", out, "--jobs", "2", *extra]


def metrics(out: str) -> dict:
    points = json.loads((work / out / "latest" / "sweep.json").read_text())["points"]
    return {p["id"]: {k: m["values"] for k, m in p["metrics"].items()} for p in points}


seen: dict = {}
subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", ADDRESS.split(":")[1],
                "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"], env=env, check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    ray = sweep_args("ray", "--executor", "ray", "--ray-address", ADDRESS)
    proc = limitlab(*ray)
    first = None
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        done = sorted((work / "ray").glob("*/studies/*.json"))
        if done:
            first = done[0]
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    seen["streamed_before_kill"] = first is not None and not any((work / "ray").glob("*/results.json"))
    kept = {p.name: p.read_bytes() for p in (work / "ray").glob("*/studies/*.json")}
    seen["kept"] = len(kept)
    again = limitlab(*ray, "--resume")
    out, err = again.communicate(timeout=240)
    seen["resume_code"], seen["resume_err"] = again.returncode, err[-2000:]
    seen["kept_unchanged"] = all((p.read_bytes() == kept[p.name]) for p in (work / "ray").glob("*/studies/*.json")
                                 if p.name in kept)
    local = limitlab(*sweep_args("local"))
    _, err = local.communicate(timeout=240)
    seen["local_code"] = local.returncode
    seen["same_metrics"] = metrics("ray") == metrics("local")
    dead = limitlab(*sweep_args("dead", "--executor", "ray", "--ray-address", "127.0.0.1:1"))
    _, err = dead.communicate(timeout=60)
    seen["dead_code"], seen["dead_err"] = dead.returncode, err
    seen["dead_left_nothing"] = not (work / "dead").exists()
finally:
    subprocess.run([RAY, "stop", "--force"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps(seen))
