"""Run studies: resolve every config first, then run each (study, seed) task in process, in a process
pool, or on Ray, writing each task's Result the moment it finishes.

Bad input (unknown study, key, preset, a missing optional package) raises before anything is
written. A study that crashes, or whose worker dies, becomes a Result with verdict "error"; the others
still run. Over several seeds every seed is judged by the study's own rule, and the study's verdict
is the seeds' common verdict ("holds on 3/3 seeds"), else "inconclusive" (`aggregate`).
"""
from __future__ import annotations

import importlib.util
import os
import platform
import shlex
import statistics
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import limitlab
import limitlab.audit  # registers the audit sections, which a spawned worker must find
import limitlab.studies  # registers the studies
from limitlab import execute, rundir
from limitlab.cache import ModelCache
from limitlab.config import as_dict, field_types
from limitlab.context import Context, Progress
from limitlab.errors import ConfigError
from limitlab.execute.events import Event, EventProgress
from limitlab.result import VERDICTS, Metric, Result, VerdictStatus
from limitlab.study import AUDIT_CHAPTER, Study, all_studies, get_study

MAX_SEED = 2**32 - 1  # seeds are hashed into sub-streams; keep them in a range every RNG accepts
EXTRAS = {"optuna": "automl", "ray": "ray", "pandas": "frame"}  # package -> the extra that installs it


@dataclass(frozen=True)
class Task:
    """One study at one seed: plain data, so it can travel to a worker process or a Ray node."""

    study: str
    preset: str
    overrides: dict[str, Any]
    seed: int
    cache_dir: str | None
    threads: int
    figures: bool = False  # draw this task's figures (the first seed of each study)
    progress: bool = False  # kept for callers of earlier versions; progress now travels as events
    point: str = ""  # in a sweep, the grid point ("p003"); its settings are in `overrides`
    # An audit section's model and data: a plain-data spec a worker loads, or (in process) the loaded
    # subject itself. Handed to the study as `ctx.subject`; None for every study of `limitlab run`.
    subject: Any = None

    @property
    def group(self) -> str:
        """The tasks aggregated together: one study (at one grid point), every seed."""
        return f"{self.study}.{self.point}" if self.point else self.study

    @property
    def key(self) -> str:
        return f"{self.group}.seed{self.seed}"

    def crashed(self, why: str, details: str | None = None) -> Result:
        """The "error" Result of this task, with `why` as its evidence."""
        cls = get_study(self.study)
        return Result(study=cls.id, claim=cls.claim, verdict="error", evidence=why, chapter=cls.chapter,
                      sources=list(cls.sources), rule=cls.rule(), error=details or why, rerun=rerun_command(self),
                      config=as_dict(cls.configure(preset=self.preset, overrides=self.overrides).config),
                      provenance={"seed": self.seed, "preset": self.preset, "wall_seconds": 0.0})


@dataclass
class Plan:
    tasks: dict[str, list[Task]] = field(default_factory=dict)  # group (a study id) -> one task per seed
    studies: dict[str, Study] = field(default_factory=dict)  # group -> its configured study
    preset: str = "default"
    kind: str = "run"  # "run" | "sweep"
    extra: dict[str, Any] = field(default_factory=dict)  # more of the identity (a sweep's grid)

    def identity(self) -> dict[str, Any]:
        """What `--resume` compares: the kind, studies, preset, seeds and resolved configs."""
        return {"kind": self.kind, "preset": self.preset, **self.extra,
                "studies": {g: {"config": as_dict(self.studies[g].config), "seeds": [t.seed for t in ts]}
                            for g, ts in self.tasks.items()}}

    def all_tasks(self) -> list[Task]:
        """Every task, seed by seed: parallel workers start on different studies, not on one study's seeds."""
        width = max((len(ts) for ts in self.tasks.values()), default=0)
        return [ts[k] for k in range(width) for ts in self.tasks.values() if k < len(ts)]


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
                raise ConfigError(f"unknown config key {name!r} for {', '.join(targets)}; "
                                  f"valid keys: {', '.join(valid)}")
    return per


def check_seed(seed: Any, num_seeds: int | None) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed {seed!r}; expected an integer from 0 to {MAX_SEED}")
    if num_seeds is not None and (isinstance(num_seeds, bool) or not isinstance(num_seeds, int) or num_seeds < 1
                                  or seed + num_seeds - 1 > MAX_SEED):
        raise ConfigError(f"--seeds {num_seeds!r}; expected an integer >= 1 with seed + seeds - 1 <= {MAX_SEED}")


def check_requirements(studies: Sequence[type[Study]]) -> None:
    """One line for the first optional package a selected study needs and this environment lacks."""
    for cls in studies:
        for package in cls.requires:
            if importlib.util.find_spec(package) is None:
                extra = EXTRAS.get(package, package)
                raise ConfigError(f"study {cls.id} needs {package}, which is not installed; install it with "
                                  f"pip install 'limitlab[{extra}]', or leave {cls.id} out")


def plan(ids: Sequence[str], *, preset: str = "default", overrides: Mapping[str, Any] | None = None,
         file_values: Mapping[str, Any] | None = None, seed: int = 0, num_seeds: int | None = None,
         cache_dir: Path | None = None, threads: int = 1, progress: bool = False, figures: bool = True,
         subject: Any = None) -> Plan:
    """Resolve and validate every study's config (raising ConfigError) before anything runs.

    `num_seeds=None` runs each study over its preset's seeds (`Study.seeds`: 3 at the default preset);
    `figures` has the first seed of each study draw its figures. `subject` is what audit sections
    measure (`Task.subject`); they cannot be planned without it."""
    ids = list(dict.fromkeys(ids)) or [s.id for s in all_studies()]
    check_seed(seed, num_seeds)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"--threads {threads!r}; expected an integer >= 1")
    per = split_overrides(ids, overrides or {}, file_values or {})
    check_requirements([get_study(sid) for sid in ids])
    audits = [sid for sid in ids if get_study(sid).chapter == AUDIT_CHAPTER]
    if audits and subject is None:
        raise ConfigError(f"{audits[0]} is an audit section: it measures your own model; run it with "
                          "limitlab audit --model SPEC --data FILE")
    out = Plan(preset=preset)
    for sid in ids:
        study = get_study(sid).configure(preset=preset, overrides=per[sid])
        count = num_seeds if num_seeds is not None else study.num_seeds(preset)
        check_seed(seed, count)
        out.studies[sid] = study
        out.tasks[sid] = [Task(sid, preset, per[sid], seed + k, str(cache_dir) if cache_dir else None, threads,
                               figures=figures and k == 0, subject=subject) for k in range(count)]
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


def rerun_command(task: Task, num_seeds: int = 1) -> str:
    parts = ["limitlab", "run", task.study, "--preset", task.preset, "--seed", str(task.seed),
             "--seeds", str(num_seeds)]
    for key, value in task.overrides.items():
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts += ["--set", f"{key}={text}"]
    return shlex.join(parts)


def run_task(task: Task, run_dir: str | Path, sink: Any = None) -> Result:
    """Run one study at one seed (and draw its figures when `task.figures`). Never raises for the
    study's own failure: returns an "error" Result. `sink` receives the task's `Event`s."""
    import torch

    from limitlab.report import render_figures

    if sink is not None:
        sink.put(Event("start", task.key))
    torch.manual_seed(task.seed)  # a safety net: studies seed every model from named streams
    torch.set_num_threads(task.threads)
    cls = get_study(task.study)
    study = cls.configure(preset=task.preset, overrides=task.overrides)
    ctx = Context(seed=task.seed, threads=task.threads, out_dir=Path(run_dir) / "studies" / task.study,
                  cache=ModelCache(task.cache_dir) if task.cache_dir else ModelCache(enabled=False),
                  progress=EventProgress(sink, task.key) if sink is not None else Progress(), subject=task.subject)
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
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    if task.figures:
        render_figures(result, Path(run_dir))
    return result


def _seed_line(result: Result) -> dict[str, Any]:
    return {"seed": result.provenance.get("seed"), "verdict": result.verdict, "evidence": result.evidence}


def consensus(verdicts: Sequence[str]) -> VerdictStatus:
    """The verdict over seeds: the seeds' common verdict; "unreliable" if any seed's measurement is;
    otherwise (the seeds disagree) "inconclusive"."""
    if "error" in verdicts:
        return "error"
    if "unreliable" in verdicts:
        return "unreliable"
    common = verdicts[0] if len(set(verdicts)) == 1 else "inconclusive"
    return common if common in VERDICTS else "inconclusive"  # type: ignore[return-value]


def seed_summary(verdicts: Sequence[str]) -> str:
    """E.g. "holds on 3/3 seeds" or "holds on 2/3 seeds, inconclusive on 1"."""
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v] = counts.get(v, 0) + 1
    parts = [f"{v} on {n}/{len(verdicts)} seeds" if k == 0 else f"{v} on {n}"
             for k, (v, n) in enumerate(sorted(counts.items(), key=lambda item: -item[1]))]
    return ", ".join(parts)


def over_seeds(results: Sequence[Result]) -> dict[str, Metric]:
    """Each metric's mean, sample standard deviation and per-seed values (None where not measured)."""
    metrics = {}
    for name, m in results[0].metrics.items():
        values = [r.metrics[name].value if name in r.metrics else None for r in results]
        noises = [n for r in results if name in r.metrics and (n := r.metrics[name].noise) is not None]
        metrics[name] = Metric.over_seeds(values, m.unit, m.description,
                                          noise=statistics.fmean(noises) if noises else None)
    return metrics


def aggregate(study: Study, results: Sequence[Result]) -> Result:
    """Several seeds -> one Result. Each seed was judged by the study's rule on its own metrics; the
    verdict is their `consensus`. Metrics are means with their spread and per-seed values; the
    evidence gives the seed count and the rule's sentence over the means; figures are the first seed's."""
    first = results[0]
    seeds = [_seed_line(r) for r in results]
    if len(results) == 1 or any(r.verdict == "error" for r in results):
        chosen = next((r for r in results if r.verdict == "error"), first)
        return replace(chosen, seeds=seeds)
    metrics = over_seeds(results)
    verdicts = [r.verdict for r in results]
    status = consensus(verdicts)
    on_means = study.verdict(metrics)
    note = "" if on_means.status == status else f" (the rule applied to the means reads {on_means.status!r})"
    evidence = f"{seed_summary(verdicts).capitalize()}{note}. Means over seeds: {on_means.evidence}"
    numbers = [r.provenance["seed"] for r in results]
    prov = dict(first.provenance, seeds=numbers,
                wall_seconds=round(sum(r.provenance.get("wall_seconds", 0.0) for r in results), 3))
    rerun = first.rerun.replace(f"--seed {numbers[0]} --seeds 1", f"--seed {numbers[0]} --seeds {len(numbers)}")
    return replace(first, metrics=metrics, verdict=status, evidence=evidence, provenance=prov, seeds=seeds,
                   rerun=rerun)


def finished(run_dir: Path, task: Task, study: Study) -> Result | None:
    """The stored Result of a task, if it finished with the same config and seed (for --resume)."""
    result = rundir.read_task(run_dir, task.key)
    if result is None or result.verdict == "error" or result.config != as_dict(study.config):
        return None
    return result


def run(p: Plan, run_dir: Path, *, jobs: int = 1, executor: str = "local", resume: bool = False,
        on_result: Callable[[Result], None] = lambda r: None, on_event: Callable[[Event], None] = lambda e: None,
        on_kept: Callable[[Result], None] | None = None, ray_address: str | None = None) -> list[Result]:
    """Execute a plan; write each finished task's Result as it arrives; one (aggregated) Result per study.

    With `resume`, a task already stored in `run_dir` with the same config is kept, not run (`on_kept`)."""
    done: dict[str, Result] = {}
    todo: list[Task] = []
    for t in p.all_tasks():
        old = finished(run_dir, t, p.studies[t.group]) if resume else None
        if old is not None:
            done[t.key] = old
            (on_kept or on_result)(old)
        else:
            todo.append(t)
    for task, result in execute.results(todo, run_dir, jobs=jobs, executor=executor, worker=run_task,
                                        on_event=on_event, ray_address=ray_address):
        rundir.write_task(run_dir, task.key, result)
        done[task.key] = result
        on_result(result)
    return [aggregate(p.studies[group], [done[t.key] for t in tasks]) for group, tasks in p.tasks.items()]


__all__ = ["Plan", "Task", "aggregate", "consensus", "environment", "plan", "run", "run_task", "seed_summary"]
