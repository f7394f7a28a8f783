"""The local executors: every task in this process, or in a pool of spawned processes.

A pool worker that dies (the OOM killer, a segfault) breaks the whole `ProcessPoolExecutor`, and
every unfinished future fails with it, guilty or not. The tasks that had not started go back into
a fresh pool; each one that had started is run again alone in a pool of one, where a second death
is its own: it becomes an "error" Result for that task, and the run goes on.
"""
from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from limitlab.execute.events import Event

DIED = "the worker process running it died (killed by the operating system: out of memory, or a crash)"

_SINK: Any = None  # in a pool worker: the queue to the driver, set by `_init`


class _Direct:
    """The serial executor's sink: events go straight to the driver's callback."""

    def __init__(self, on_event: Callable[[Event], None]) -> None:
        self.on_event = on_event

    def put(self, item: Event) -> None:
        self.on_event(item)


def serial_results(tasks: Sequence[Any], run_dir: Path, *, worker: Callable, on_event: Callable[[Event], None]
                   ) -> Iterator[tuple[Any, Any]]:
    sink = _Direct(on_event)
    for task in tasks:
        yield task, worker(task, run_dir, sink)


def _init(sink: Any) -> None:
    global _SINK
    _SINK = sink


def _call(worker: Callable, task: Any, run_dir: Path) -> Any:
    return worker(task, run_dir, _SINK)


class _Pump(threading.Thread):
    """Moves events from the workers' queue to the driver's callback; remembers which tasks started."""

    def __init__(self, source: Any, on_event: Callable[[Event], None]) -> None:
        super().__init__(daemon=True)
        self.source, self.on_event = source, on_event
        self.started: set[str] = set()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.drain(timeout=0.1)

    def drain(self, timeout: float = 0.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.source.empty():
                    if time.monotonic() >= deadline:
                        return
                    time.sleep(0.02)
                    continue
                event = self.source.get()
            except (OSError, EOFError, ValueError):
                return
            if isinstance(event, Event):
                if event.kind == "start":
                    self.started.add(event.task)
                self.on_event(event)


def pool_results(tasks: Sequence[Any], run_dir: Path, *, jobs: int, worker: Callable,
                 on_event: Callable[[Event], None]) -> Iterator[tuple[Any, Any]]:
    # spawn, not fork: forking a process that holds torch's thread pools can deadlock.
    context = mp.get_context("spawn")
    # A SimpleQueue writes to its pipe synchronously: a worker's "start" is there before it can die.
    events = context.SimpleQueue()
    pump = _Pump(events, on_event)
    pump.start()
    fresh, alone = list(tasks), list[Any]()
    try:
        while fresh or alone:
            batch, workers = (fresh, jobs) if fresh else ([alone.pop(0)], 1)
            fresh = [] if batch is fresh else fresh
            for task, outcome in _one_pool(batch, run_dir, workers, worker, events, pump, context):
                if outcome is not BrokenProcessPool:
                    yield task, outcome
                elif workers == 1:
                    yield task, task.crashed(DIED)
                else:
                    (alone if task.key in pump.started else fresh).append(task)
    finally:
        pump.stopping.set()
        pump.join()
        pump.drain(timeout=0.2)  # what the last workers sent just before their results
        events.close()


def _one_pool(batch: list[Any], run_dir: Path, workers: int, worker: Callable, events: Any, pump: _Pump,
              context: Any) -> Iterator[tuple[Any, Any]]:
    pool = ProcessPoolExecutor(max_workers=min(workers, len(batch)), mp_context=context, initializer=_init,
                               initargs=(events,))
    try:
        futures = {pool.submit(_call, worker, task, run_dir): task for task in batch}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool:
                pump.drain()  # the dead worker's "start" events decide who is re-run alone
                outcome = BrokenProcessPool
            yield futures[future], outcome
    except BaseException:
        # Interrupted (Ctrl-C, or the caller stopped reading): do not wait for studies nobody will see.
        for process in list(getattr(pool, "_processes", {}).values()):  # no public API kills the workers
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
