"""Where tasks run: in this process, in a pool of local processes, or on a Ray cluster.

Each executor is a generator of `(task, result)` pairs *as they finish*, so the runner writes every
result the moment it arrives (a killed run keeps what it finished). Workers send their progress and
`ctx.log` messages to the driver as `Event`s. `--jobs N` caps the tasks in flight everywhere.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from limitlab.errors import ConfigError
from limitlab.execute.events import Event
from limitlab.execute.local import pool_results, serial_results

EXECUTORS = ("local", "ray")


def results(tasks: Sequence[Any], run_dir: Path, *, jobs: int, executor: str, worker: Callable,
            on_event: Callable[[Event], None], ray_address: str | None = None) -> Iterator[tuple[Any, Any]]:
    """`(task, result)` pairs as they finish; `worker(task, run_dir, events)` runs one task."""
    if executor == "ray":
        from limitlab.execute.ray_cluster import ray_results

        return ray_results(tasks, run_dir, jobs=jobs, worker=worker, on_event=on_event, address=ray_address)
    if executor != "local":
        raise ConfigError(f"executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    if jobs <= 1 or len(tasks) <= 1:
        return serial_results(tasks, run_dir, worker=worker, on_event=on_event)
    return pool_results(tasks, run_dir, jobs=jobs, worker=worker, on_event=on_event)


__all__ = ["EXECUTORS", "Event", "results"]
