"""`Context`: what a study gets from the runner. Studies never seed globals, print, or pick a device.

It carries the seed (and generators derived from it), the thread count, the study's output folder,
the model cache, and a progress reporter; for an audit section, also the `subject`: the user's model
and data under audit (`limitlab.audit.subject`), or the plain-data spec a worker loads them from.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from limitlab.cache import ModelCache

T = TypeVar("T")


class Progress:
    """Silent progress: the base for tests and worker processes. `RichProgress` draws bars."""

    def track(self, items: Iterable[T], *, total: int | None = None, description: str = "") -> Iterator[T]:
        yield from items

    def log(self, message: str) -> None:
        pass


class RichProgress(Progress):
    """Progress bars on stderr (rich), one per tracked loop, removed when the loop ends."""

    def __init__(self, label: str = "") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as _P

        self.label = label
        self.console = Console(stderr=True)
        self._bars = _P(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=self.console, transient=True)

    def track(self, items: Iterable[T], *, total: int | None = None, description: str = "") -> Iterator[T]:
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        with self._bars:
            task = self._bars.add_task(f"{self.label} {description}".strip(), total=total)
            try:
                for item in items:
                    yield item
                    self._bars.advance(task)
            finally:
                self._bars.remove_task(task)

    def log(self, message: str) -> None:
        self.console.log(f"{self.label}: {message}" if self.label else message)


@dataclass
class Context:
    seed: int = 0
    threads: int = 2
    out_dir: Path = field(default_factory=lambda: Path("."))
    cache: ModelCache = field(default_factory=lambda: ModelCache(enabled=False))
    progress: Progress = field(default_factory=Progress)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    subject: Any = None  # an audit section's model and data (see `limitlab.audit.subject.subject_of`)

    def derive_seed(self, *names: object) -> int:
        """A seed for a named sub-stream (e.g. `"split"`, `"pgd"`), stable across runs and platforms."""
        text = ":".join([str(self.seed), *map(str, names)])
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")

    def generator(self, *names: object) -> torch.Generator:
        """A fresh `torch.Generator` seeded from the run seed and `names`."""
        return torch.Generator().manual_seed(self.derive_seed(*names))

    def rng(self, *names: object) -> np.random.Generator:
        """A fresh NumPy generator seeded from the run seed and `names`."""
        return np.random.default_rng(self.derive_seed(*names))

    @contextmanager
    def seeded_torch(self, *names: object) -> Iterator[None]:
        """Within the block, torch's global generator (which initializes weights and draws dropout masks)
        is seeded from `derive_seed(*names)`; afterwards it is as it was before.

        So whatever happens inside (a model trained, or loaded from the cache) does not change what
        comes after, and a model's initialization depends on its own name, not on what was built first.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.derive_seed(*names))
            yield

    def log(self, message: str) -> None:
        self.progress.log(message)
