"""The terminal summary: one row per study (study, claim, verdict, evidence), drawn with rich."""
from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from limitlab.report.verdicts import label, tone
from limitlab.result import Result

STYLE = {"holds": "bold green", "fails": "bold red", "inconclusive": "bold yellow", "unreliable": "bold dark_orange",
         "error": "bold magenta"}


def summary_table(results: Sequence[Result], *, title: str = "limitlab") -> Table:
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("study", style="bold", no_wrap=True)
    table.add_column("claim", ratio=2)
    table.add_column("verdict", no_wrap=True)
    table.add_column("evidence", ratio=3)
    for r in results:  # Text, not markup: a claim or evidence holding "[/]" is shown, not parsed
        table.add_row(Text(r.study), Text(r.claim), Text(label(r), style=STYLE.get(tone(r), "bold")),
                      Text(r.evidence))
    return table


def print_summary(results: Sequence[Result], *, console: Console | None = None, title: str = "limitlab") -> None:
    (console or Console()).print(summary_table(results, title=title))
