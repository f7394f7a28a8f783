"""What the driver shows while a run goes: one overall bar (k of N tasks), a bar per running task's
current loop, workers' log lines, and one line per finished task. The same for every executor:
everything arrives as events (`limitlab.execute.events.Event`) and Results."""
from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from limitlab.report.verdicts import label, tone
from limitlab.result import Result

MARKS = {"holds": "[green]✓[/]", "fails": "[red]✗[/]", "inconclusive": "[yellow]?[/]",
         "unreliable": "[dark_orange]![/]"}


class Live:
    """`with Live(total, console=...) as live:` then `live.event(e)` and `live.result(r)`."""

    def __init__(self, total: int, *, console: Console, bars: bool) -> None:
        self.console, self.bars = console, bars
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True, disable=not bars)
        self.overall = self.progress.add_task("tasks", total=total)
        self.loops: dict[tuple[str, str], Any] = {}

    def event(self, e: Any) -> None:
        if e.kind == "log":
            self.console.log(escape(f"{e.task}: {e.text}"))
        elif e.kind == "loop" and self.bars:
            key = (e.task, e.text)
            if key not in self.loops:
                self.loops[key] = self.progress.add_task(escape(f"  {e.task} {e.text}"), total=e.total)
            self.progress.update(self.loops[key], completed=e.done, total=e.total)
            if e.total is not None and e.done >= e.total:
                self.progress.remove_task(self.loops.pop(key))

    def result(self, r: Result, *, resumed: bool = False) -> None:
        seed = f".seed{r.provenance.get('seed')}"
        for key in [k for k in self.loops if k[0].startswith(r.study) and k[0].endswith(seed)]:
            self.progress.remove_task(self.loops.pop(key))
        self.progress.advance(self.overall)
        mark = MARKS.get(tone(r), "[magenta]![/]")
        when = "kept from the earlier run" if resumed else f"in {r.provenance.get('wall_seconds', 0):.1f} s"
        self.console.print(f"{mark} {escape(r.study)} (seed {r.provenance.get('seed')}): {escape(label(r))} {when}")

    def __enter__(self) -> Live:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()
