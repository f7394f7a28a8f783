"""Executors: results stream as they finish, a dead worker costs its own task only, events reach the driver."""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from limitlab.execute import results
from limitlab.execute.events import Event


@dataclass(frozen=True)
class FakeTask:
    name: str
    threads: int = 1

    @property
    def key(self) -> str:
        return self.name

    def crashed(self, why: str) -> str:
        return f"error: {why}"


def work(task: FakeTask, run_dir: Path, sink) -> str:
    """A worker that logs, then dies for tasks named 'kill*' (as the OOM killer would kill it)."""
    sink.put(Event("start", task.key))
    sink.put(Event("log", task.key, f"hello from {task.name}"))
    if task.name.startswith("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    return f"done {task.name}"


def test_a_dead_worker_becomes_an_error_for_its_task_and_the_run_goes_on(tmp_path):
    tasks = [FakeTask(n) for n in ("a", "kill-1", "b", "c", "d")]
    events: list[Event] = []
    out = dict(results(tasks, tmp_path, jobs=2, executor="local", worker=work, on_event=events.append))
    assert out[tasks[1]].startswith("error: the worker process running it died")
    assert {out[t] for t in tasks if t.name != "kill-1"} == {"done a", "done b", "done c", "done d"}
    logs = {e.text for e in events if e.kind == "log"}
    assert {"hello from a", "hello from d"} <= logs  # workers' ctx.log lines reach the driver


def test_serial_executor_streams_in_order_and_forwards_events(tmp_path):
    events: list[Event] = []
    pairs = list(results([FakeTask("x"), FakeTask("y")], tmp_path, jobs=1, executor="local", worker=work,
                         on_event=events.append))
    assert [r for _, r in pairs] == ["done x", "done y"]
    assert [e.kind for e in events] == ["start", "log", "start", "log"]
