"""The Python entry points: the same runs as the command line, from a script or a notebook.

    import limitlab
    results = limitlab.run(["adversarial"], preset="tiny", seeds=3, eps_grid=(0.0, 0.1, 0.2))
    results[0]                     # <Result adversarial: holds on 3/3 seeds, ...>; rich HTML in a notebook
    limitlab.to_frame(results)     # one row per (study, seed, metric), with pandas
    limitlab.studies()             # what there is to run

`run` builds the same Tasks as `limitlab run`, so the same arguments give bit-identical metrics.
It runs in this process by default (`jobs=1`); `jobs=2` uses a process pool, which (like every use
of multiprocessing's spawn) needs a script's entry point under `if __name__ == "__main__":`.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limitlab import rundir, runner
from limitlab.cache import ModelCache, default_cache_dir
from limitlab.config import read_config_file
from limitlab.errors import ConfigError
from limitlab.frame import Results, to_frame
from limitlab.result import Result


@dataclass(frozen=True)
class StudyInfo:
    id: str
    chapter: str
    claim: str
    sources: tuple[str, ...]


def studies() -> list[StudyInfo]:
    """Every study `run` knows: id, chapter, claim and source notes, in catalog order."""
    from limitlab.study import all_studies

    return [StudyInfo(s.id, s.chapter, s.claim, s.sources) for s in all_studies()]


def run(ids: str | Sequence[str] = (), *, preset: str = "default", seed: int = 0, seeds: int | None = None,
        out: str | Path | None = None, jobs: int = 1, executor: str = "local", ray_address: str | None = None,
        resume: bool = False, cache: bool = True, config: str | Path | None = None,
        settings: Mapping[str, Any] | None = None, threads: int = 1, **overrides: Any) -> Results:
    """Run studies as `limitlab run` does and return their Results (aggregated over seeds).

    `overrides` set a key in every selected study that has it (`eps=0.05`); `settings` may scope one
    to a study (`{"adversarial.eps": 0.05}`); `config` is a TOML/JSON file of the same. With `out`, the
    run folder, results.json, figures and index.html are written there as by the CLI; without it,
    nothing is written (and no figures are drawn)."""
    ids = [ids] if isinstance(ids, str) else list(ids)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs={jobs!r}; expected an integer >= 1")
    values = {**(settings or {}), **overrides}
    plan = runner.plan(ids, preset=preset, overrides=values, seed=seed, num_seeds=seeds, threads=threads,
                       file_values=read_config_file(config) if config is not None else {},
                       cache_dir=default_cache_dir() if cache else None, figures=out is not None)
    return execute(plan, out=Path(out) if out is not None else None, jobs=jobs, executor=executor,
                   ray_address=ray_address, resume=resume)


def execute(plan: runner.Plan, *, out: Path | None, jobs: int, executor: str = "local",
            ray_address: str | None = None, resume: bool | str | Path = False,
            on_result: Callable[[Result], None] = lambda r: None, on_event: Callable[[Any], None] = lambda e: None,
            on_kept: Callable[[Result], None] | None = None, title: str = "limitlab report",
            report: bool = True) -> Results:
    """Check what can be checked before any work (cache, executor, run folder), run the plan, and
    (with `out`) write results.json and then (with `report`) the page, which only reads it."""
    first = next(iter(plan.tasks.values()), [None])[0]
    if first is not None and first.cache_dir is not None:
        ModelCache(first.cache_dir).check_writable()
    if executor == "ray":
        from limitlab.execute.ray_cluster import check_reachable, require_ray, resolve_address

        require_ray()
        check_reachable(resolve_address(ray_address))
    elif executor != "local":
        raise ConfigError(f"executor={executor!r}; expected 'local' or 'ray'")
    before = _latest(out)
    run_dir = _run_dir(plan, out, resume) if out is not None else None
    work_dir = run_dir if run_dir is not None else _scratch()
    try:
        results = Results(runner.run(plan, work_dir, jobs=jobs, executor=executor,
                                     resume=bool(resume) and run_dir is not None, on_result=on_result,
                                     on_event=on_event, on_kept=on_kept, ray_address=ray_address))
    except BaseException:
        if out is not None and run_dir is not None and not resume:
            _forget_if_empty(out, run_dir, before)  # interrupted before anything finished: leave nothing
        raise
    if run_dir is not None:
        from limitlab.report import render_figures, write_report

        for tasks, r in zip(plan.tasks.values(), results):  # what a remote worker drew on its own node
            if tasks and tasks[0].figures:
                render_figures(r, run_dir, missing_only=True)
        rundir.write_results(run_dir, results)
        if report:
            write_report(results, run_dir, title=title)
    results.run_dir = run_dir
    return results


def _run_dir(plan: runner.Plan, out: Path, resume: bool | str | Path) -> Path:
    if resume is False or resume is None:
        return rundir.create(out, plan.identity())
    named = Path(resume) if isinstance(resume, (str, Path)) and str(resume) else None
    run_dir = rundir.resumable(out, plan.identity(), run_dir=named)
    rundir.point_latest(run_dir.parent, run_dir)
    return run_dir


def _latest(out: Path | None) -> str | None:
    latest = out / "latest" if out is not None else None
    return os.readlink(latest) if latest is not None and latest.is_symlink() else None


def _forget_if_empty(out: Path, run_dir: Path, before: str | None) -> None:
    """Remove a run folder in which no task finished, and point `latest` back where it was."""
    if any((run_dir / "studies").glob("*.json")):
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    latest = out / "latest"
    if before is not None:
        rundir.point_latest(out, out / before)
    else:
        latest.unlink(missing_ok=True)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def _scratch() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="limitlab-run-"))
    (path / "studies").mkdir()
    return path


__all__ = ["Results", "StudyInfo", "execute", "run", "studies", "to_frame"]
