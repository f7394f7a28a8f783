"""Result JSON -> terminal table, figures (PNG) and a self-contained HTML report. Never imports torch."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from limitlab._io import atomic_write_bytes
from limitlab.report.html import render_html
from limitlab.report.terminal import print_summary, summary_table
from limitlab.result import Result


def render_figures(results: Sequence[Result], run_dir: Path) -> None:
    """Write each figure to `figures/<study>-<id>.png` and record its path in the Result."""
    from limitlab.report.figures import render  # matplotlib loads only when figures are drawn

    for r in results:
        for f in r.figures:
            rel = f"figures/{r.study}-{f.id}.png"
            atomic_write_bytes(run_dir / rel, render(f))
            f.file = rel


def write_report(results: Sequence[Result], run_dir: Path) -> Path:
    """Render the figures and write `index.html`; returns its path."""
    render_figures(results, run_dir)
    path = run_dir / "index.html"
    atomic_write_bytes(path, render_html(results, run_dir=run_dir).encode())
    return path


__all__ = ["print_summary", "render_figures", "render_html", "summary_table", "write_report"]
