"""The terminal summary: one row per study (study, claim, verdict, evidence), drawn with rich."""
from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from limitlab.report.verdicts import label, tone
from limitlab.result import Result

STYLE = {"holds": "bold green", "fails": "bold red", "inconclusive": "bold yellow", "error": "bold magenta"}


def summary_table(results: Sequence[Result], *, title: str = "limitlab") -> Table:
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("study", style="bold", no_wrap=True)
    table.add_column("claim", ratio=2)
    table.add_column("verdict", no_wrap=True)
    table.add_column("evidence", ratio=3)
    for r in results:
        table.add_row(r.study, r.claim, f"[{STYLE[tone(r)]}]{label(r)}[/]", r.evidence)
    return table


def print_summary(results: Sequence[Result], *, console: Console | None = None, title: str = "limitlab") -> None:
    (console or Console()).print(summary_table(results, title=title))
