"""Run folders: where a run's files go, how `runs/latest` follows it, and which run `--resume` continues.

    OUT/<stamp>/run.json              what the run is (its identity: kind, studies, preset, seeds, configs)
    OUT/<stamp>/studies/<task key>.json   each finished task (e.g. adversarial.seed0), written as it arrives
    OUT/<stamp>/results.json          every study's Result (aggregated over seeds)
    OUT/<stamp>/figures/<study>-<figure>.png, OUT/<stamp>/index.html
    OUT/latest -> <stamp>             pointed at the run when it *starts*, so a killed run can be resumed

`--resume` continues the newest run in OUT whose identity is the same as the new plan's (never a run
of other studies, settings or an audit), and `--resume DIR` names one; a mismatch is one line.
Every file is written atomically (`limitlab._io`), so a reader never sees half of one.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import limitlab
from limitlab._io import atomic_write_bytes
from limitlab.errors import ConfigError, OutputError
from limitlab.result import Result

IDENTITY = "run.json"


def create(out: Path, identity: Mapping[str, Any]) -> Path:
    """A new run folder under `out`, its identity written and `out/latest` pointed at it."""
    _check_out(out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir, k = out / stamp, 1
    while run_dir.exists():
        run_dir, k = out / f"{stamp}-{k}", k + 1
    try:
        (run_dir / "studies").mkdir(parents=True)
        atomic_write_bytes(run_dir / IDENTITY, json.dumps(dict(identity), indent=1).encode())
        point_latest(out, run_dir)
    except OSError as err:
        raise OutputError(f"cannot create the run folder {run_dir}: {err.strerror}; "
                          "choose a writable folder with --out") from None
    return run_dir


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot create the run folder in {out}: it is a file; choose a folder with --out")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create the run folder in {out}: {probe} is not writable; "
                          "choose a writable folder with --out")


def resumable(out: Path, identity: Mapping[str, Any], *, run_dir: Path | None = None) -> Path:
    """The run folder to continue: `run_dir` if given and it matches `identity`, else the newest run in
    `out` that matches. A ConfigError (one line) when there is none."""
    if run_dir is not None:
        if not (run_dir / IDENTITY).is_file():
            raise ConfigError(f"--resume {run_dir}: not a limitlab run folder (no {IDENTITY}); "
                              "give a folder written by `limitlab run`, or run without --resume")
        diff = difference(read_identity(run_dir), identity)
        if diff:
            raise ConfigError(f"--resume {run_dir}: that run {diff}; resume it with its own arguments, "
                              "or run without --resume")
        _check_writable(run_dir)
        return run_dir
    candidates = sorted((p for p in out.glob("*/") if (p / IDENTITY).is_file() and not p.is_symlink()),
                        key=lambda p: p.stat().st_mtime, reverse=True) if out.is_dir() else []
    for path in candidates:
        if not difference(read_identity(path), identity):
            _check_writable(path)
            return path
    raise ConfigError(f"--resume: no run in {out} has these studies, preset, seeds and settings; "
                      "run without --resume (or name a run folder: --resume DIR)")


def _check_writable(run_dir: Path) -> None:
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise OutputError(f"cannot resume {run_dir}: the folder is not writable; make it writable or "
                          "run without --resume")


def read_identity(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / IDENTITY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """"" when two identities are the same, else a few words on how `old` differs."""
    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))  # tuples vs lists
    for key in ("kind", "preset"):
        if old.get(key) != new.get(key):
            return f"has {key} {old.get(key)!r}, not {new.get(key)!r}"
    studies_old, studies_new = old.get("studies", {}), new.get("studies", {})
    if set(studies_old) != set(studies_new):
        return f"ran {', '.join(studies_old) or 'nothing'}, not {', '.join(studies_new)}"
    for sid, spec in studies_new.items():
        if studies_old[sid] != spec:
            what = "seeds" if studies_old[sid].get("seeds") != spec.get("seeds") else "settings"
            return f"ran {sid} with other {what}"
    return "" if old == new else "was started with other arguments"


def point_latest(out: Path, run_dir: Path) -> None:
    latest = out / "latest"
    tmp = out / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)


def task_path(run_dir: Path, key: str) -> Path:
    return Path(run_dir) / "studies" / f"{key}.json"


def write_task(run_dir: Path, key: str, result: Result) -> None:
    atomic_write_bytes(task_path(run_dir, key), result.to_json().encode())


def read_task(run_dir: Path, key: str) -> Result | None:
    """A finished task's stored Result (`key` as `Task.key`), or None (missing, unreadable, other version)."""
    try:
        return Result.from_json(task_path(run_dir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_results(run_dir: Path, results: Sequence[Result]) -> Path:
    path = Path(run_dir) / "results.json"
    payload = {"limitlab": limitlab.__version__, "results": [r.to_dict() for r in results]}
    atomic_write_bytes(path, json.dumps(payload, indent=1, allow_nan=False).encode())
    return path


def load_results(run_dir: Path) -> list[Result]:
    """Every Result of a finished run; an OutputError (one line) for anything else."""
    run_dir = Path(run_dir)
    if run_dir.name == "results.json" and run_dir.is_file():
        run_dir = run_dir.parent  # `limitlab show runs/latest/results.json`: the folder was meant
    path = run_dir / "results.json"
    if not path.exists():
        hint = ("the run did not finish; continue it with `limitlab run --resume " + str(run_dir) + "`"
                if (run_dir / IDENTITY).exists() else "give a run folder written by `limitlab run`")
        raise OutputError(f"{path} does not exist; {hint}")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        results = [Result.from_dict(r) for r in payload["results"]]
    except OSError as err:
        raise OutputError(f"cannot read {path}: {err.strerror}; check its permissions") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OutputError(f"{path} is not a limitlab results file ({reason}); re-run the studies") from None
    return results
