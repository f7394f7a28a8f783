"""What a worker tells the driver while it runs: a task started, a log line, a loop's progress."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from limitlab.context import Progress

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    kind: Literal["start", "log", "loop"]
    task: str  # the task's key, e.g. "adversarial.seed0"
    text: str = ""
    done: int = 0
    total: int | None = None


class Sink(Protocol):
    def put(self, item: Any) -> None: ...


class EventProgress(Progress):
    """A worker's progress reporter: forwards `log` and each tracked loop's progress to a sink (a
    multiprocessing queue, or a Ray actor's method) as `Event`s, for the driver to show."""

    def __init__(self, sink: Sink, task: str) -> None:
        self.sink, self.task = sink, task

    def track(self, items: Iterable[T], *, total: int | None = None, description: str = "") -> Iterator[T]:
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        for done, item in enumerate(items, start=1):
            yield item
            self.sink.put(Event("loop", self.task, description, done, total))

    def log(self, message: str) -> None:
        self.sink.put(Event("log", self.task, message))
