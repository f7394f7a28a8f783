"""Run studies: resolve every config first, then run in process, in a process pool, or on Ray.

A run writes into its own folder `OUT/<stamp>/`: `studies/<id>.json` as each study finishes (so
`--resume` can skip it), then `results.json`, the figures and `index.html`; `OUT/latest` points at
it. Every file is written atomically. Bad input (unknown study, key, preset) raises before anything
is written. A study that crashes becomes a Result with verdict "error"; the others still run.
"""
from __future__ import annotations

import json
import math
import os
import platform
import shlex
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import multiprocessing as mp

import limitlab
from limitlab._io import atomic_write_bytes
from limitlab.cache import ModelCache, default_cache_dir
from limitlab.config import as_dict, field_types
from limitlab.context import Context, Progress, RichProgress
from limitlab.errors import ConfigError, LimitlabError, OutputError
from limitlab.result import Metric, Result
from limitlab.study import Study, all_studies, get_study


@dataclass(frozen=True)
class Task:
    """One study at one seed: plain data, so it can travel to a worker process or a Ray node."""

    study: str
    preset: str
    overrides: dict[str, Any]
    seed: int
    cache_dir: str | None
    threads: int
    progress: bool = False


@dataclass
class Plan:
    tasks: dict[str, list[Task]] = field(default_factory=dict)  # study id -> one task per seed
    studies: dict[str, Study] = field(default_factory=dict)


def split_overrides(ids: Sequence[str], overrides: Mapping[str, Any], file_values: Mapping[str, Any]
                    ) -> dict[str, dict[str, Any]]:
    """Per-study overrides. `key=v` applies to every selected study that has `key`; `study.key=v` to one.

    A file may hold top-level keys (like `--set key=v`) and tables named after studies.
    """
    per: dict[str, dict[str, Any]] = {i: {} for i in ids}
    used: set[str] = set()
    layers = [{k: v for k, v in file_values.items() if not isinstance(v, dict)}]
    layers += [{f"{s}.{k}": v for k, v in t.items()} for s, t in file_values.items() if isinstance(t, dict)]
    layers.append(dict(overrides))
    for layer in layers:
        for key, value in layer.items():
            scope, _, name = key.rpartition(".")
            targets = [scope] if scope else list(ids)
            if scope and scope not in per:
                raise ConfigError(f"{key!r} names study {scope!r}, which is not selected; "
                                  f"selected: {', '.join(ids)}")
            for sid in targets:
                if name in field_types(get_study(sid).Config):
                    per[sid][name] = value
                    used.add(key)
            if key not in used:
                valid = sorted({k for s in targets for k in field_types(get_study(s).Config)})
                raise ConfigError(f"unknown config key {name!r} for {', '.join(targets)}; valid keys: {', '.join(valid)}")
    return per


def plan(ids: Sequence[str], *, preset: str = "default", overrides: Mapping[str, Any] | None = None,
         file_values: Mapping[str, Any] | None = None, seed: int = 0, num_seeds: int = 1,
         cache_dir: Path | None = None, threads: int = 2, progress: bool = False) -> Plan:
    """Resolve and validate every study's config (raising ConfigError) before anything runs."""
    ids = list(ids) or [s.id for s in all_studies()]
    if num_seeds < 1:
        raise ConfigError(f"--seeds {num_seeds}; expected >= 1")
    per = split_overrides(ids, overrides or {}, file_values or {})
    out = Plan()
    for sid in ids:
        study = get_study(sid).configure(preset=preset, overrides=per[sid])
        out.studies[sid] = study
        out.tasks[sid] = [Task(sid, preset, per[sid], seed + k,
                               str(cache_dir) if cache_dir else None, threads, progress)
                          for k in range(num_seeds)]
    return out


def environment() -> dict[str, Any]:
    """The provenance of the machine: package versions and the machine's description."""
    return {"versions": _versions(),
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores"}


def _versions() -> dict[str, str]:
    import numpy
    import sklearn
    import torch

    return {"limitlab": limitlab.__version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "python": platform.python_version()}


def rerun_command(task: Task) -> str:
    parts = ["limitlab", "run", task.study, "--preset", task.preset, "--seed", str(task.seed)]
    for key, value in task.overrides.items():
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts += ["--set", f"{key}={text}"]
    return shlex.join(parts)


def run_task(task: Task, run_dir: str | Path) -> Result:
    """Run one study at one seed. Never raises for a study's own failure: returns an "error" Result."""
    import torch

    torch.manual_seed(task.seed)  # model initialization draws from the global generator
    torch.set_num_threads(task.threads)
    cls = get_study(task.study)
    study = cls.configure(preset=task.preset, overrides=task.overrides)
    ctx = Context(seed=task.seed, threads=task.threads, out_dir=Path(run_dir) / "studies" / task.study,
                  cache=ModelCache(task.cache_dir) if task.cache_dir else ModelCache(enabled=False),
                  progress=RichProgress(task.study) if task.progress else Progress())
    start = time.perf_counter()
    try:
        result = study.run(ctx)
    except Exception as err:  # noqa: BLE001  (a crashing study is recorded, and the suite goes on)
        result = Result(study=cls.id, claim=cls.claim, verdict="error",
                        evidence=f"the study crashed: {type(err).__name__}: {err}",
                        config=as_dict(study.config), chapter=cls.chapter, sources=list(cls.sources),
                        rule=cls.rule(), error=traceback.format_exc())
    result.rerun = rerun_command(task)
    result.provenance.update({
        "seed": task.seed, "preset": task.preset, "wall_seconds": round(time.perf_counter() - start, 3),
        "threads": task.threads, "cache_hits": ctx.cache.hits, "cache_misses": ctx.cache.misses,
        **environment(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return result


def aggregate(study: Study, results: Sequence[Result]) -> Result:
    """Several seeds -> one Result: metric means, standard deviations and per-seed values; the verdict
    is the study's rule applied to the means; figures and tables are those of the first seed."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    if any(r.verdict == "error" for r in results):
        return next(r for r in results if r.verdict == "error")
    metrics = {}
    for name, m in first.metrics.items():
        values = [r.metrics[name].value if name in r.metrics else None for r in results]
        finite = [v for v in values if v is not None]
        mean = sum(finite) / len(finite) if finite else None
        spread = math.sqrt(sum((v - mean) ** 2 for v in finite) / max(len(finite) - 1, 1)) if finite else None
        metrics[name] = Metric(mean, m.unit, m.description, spread, values)
    verdict = study.judge({k: m.value for k, m in metrics.items()})
    seeds = [r.provenance["seed"] for r in results]
    prov = dict(first.provenance, seeds=seeds,
                wall_seconds=round(sum(r.provenance["wall_seconds"] for r in results), 3))
    evidence = f"{verdict.evidence} (mean over {len(results)} seeds)"
    return replace(first, metrics=metrics, verdict=verdict.status, evidence=evidence, provenance=prov,
                   rerun=first.rerun.replace(f"--seed {seeds[0]}", f"--seed {seeds[0]} --seeds {len(seeds)}"))


def _execute(tasks: list[Task], run_dir: Path, jobs: int, executor: str,
             on_done: Callable[[Result], None]) -> list[Result]:
    if executor == "ray":
        return _execute_ray(tasks, run_dir, on_done)
    if jobs <= 1:
        results = []
        for t in tasks:
            results.append(run_task(t, run_dir))
            on_done(results[-1])
        return results
    # spawn, not fork: forking a process that holds torch's thread pools can deadlock.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(run_task, t, run_dir): i for i, t in enumerate(tasks)}
        results: list[Result | None] = [None] * len(tasks)
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            on_done(results[futures[fut]])
    return results  # type: ignore[return-value]


def _execute_ray(tasks: list[Task], run_dir: Path, on_done: Callable[[Result], None]) -> list[Result]:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray; install it with pip install 'limitlab[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True)
    remote = ray.remote(run_task)
    results = ray.get([remote.remote(t, str(run_dir)) for t in tasks])
    for r in results:
        on_done(r)
    return results


def make_run_dir(out: Path, *, resume: bool) -> Path:
    """A new run folder under `out` (or, with resume, the one `out/latest` points at)."""
    latest = out / "latest"
    if resume and latest.exists():
        return latest.resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / stamp
    k = 1
    while run_dir.exists():
        run_dir, k = out / f"{stamp}-{k}", k + 1
    try:
        (run_dir / "studies").mkdir(parents=True)
    except OSError as err:
        raise OutputError(f"cannot create the run folder {run_dir}: {err.strerror}; "
                          "choose a writable folder with --out") from None
    return run_dir


def point_latest(out: Path, run_dir: Path) -> None:
    latest = out / "latest"
    tmp = out / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)


def _finished(run_dir: Path, task: Task, study: Study) -> Result | None:
    """The stored Result of a task, if it finished with the same config and seed (for --resume)."""
    path = run_dir / "studies" / f"{task.study}.seed{task.seed}.json"
    if not path.exists():
        return None
    try:
        result = Result.from_json(path.read_text())
    except (ValueError, TypeError, KeyError):
        return None
    same = result.config == as_dict(study.config) and result.verdict != "error"
    return result if same else None


def run(p: Plan, run_dir: Path, *, jobs: int = 1, executor: str = "local", resume: bool = False,
        on_result: Callable[[Result], None] = lambda r: None) -> list[Result]:
    """Execute a plan; write each finished task's Result; return one (aggregated) Result per study."""
    done: dict[tuple[str, int], Result] = {}
    todo: list[Task] = []
    for sid, tasks in p.tasks.items():
        for t in tasks:
            old = _finished(run_dir, t, p.studies[sid]) if resume else None
            if old is not None:
                done[sid, t.seed] = old
            else:
                todo.append(t)

    def store(result: Result) -> None:
        name = f"{result.study}.seed{result.provenance['seed']}.json"
        atomic_write_bytes(run_dir / "studies" / name, result.to_json().encode())
        on_result(result)

    for t, r in zip(todo, _execute(todo, run_dir, jobs, executor, store)):
        done[t.study, t.seed] = r
    return [aggregate(p.studies[sid], [done[sid, t.seed] for t in tasks]) for sid, tasks in p.tasks.items()]


def write_results(run_dir: Path, results: Sequence[Result]) -> Path:
    path = run_dir / "results.json"
    payload = {"limitlab": limitlab.__version__, "results": [r.to_dict() for r in results]}
    atomic_write_bytes(path, json.dumps(payload, indent=1, allow_nan=False).encode())
    return path


def load_results(run_dir: Path) -> list[Result]:
    path = Path(run_dir) / "results.json"
    try:
        payload = json.loads(path.read_text())
        return [Result.from_dict(r) for r in payload["results"]]
    except FileNotFoundError:
        raise OutputError(f"{path} does not exist; give a run folder written by `limitlab run`") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise OutputError(f"{path} is not a limitlab results file ({err}); re-run the studies") from None


__all__ = ["Plan", "Task", "aggregate", "environment", "load_results", "make_run_dir", "plan", "point_latest", "run",
           "run_task", "write_results", "default_cache_dir", "LimitlabError"]
