"""Result JSON -> terminal table, figures (PNG) and a self-contained HTML report. Never imports torch."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from limitlab._io import atomic_write_bytes
from limitlab.report.background import BackgroundRenderer, figure_file
from limitlab.report.html import render_html
from limitlab.report.terminal import print_summary, summary_table
from limitlab.result import Result


def render_figures(results: Sequence[Result], run_dir: Path, *, drawn: Collection[str] = ()) -> None:
    """Write each figure to `figures/<study>-<id>.png` (unless its file is in `drawn`, the files a
    `BackgroundRenderer` drew in this run) and record its path in the Result."""
    for r in results:
        for f in r.figures:
            rel = figure_file(r, f)
            if rel not in drawn:
                from limitlab.report.figures import render  # matplotlib loads only when figures are drawn

                atomic_write_bytes(run_dir / rel, render(f))
            f.file = rel


def rewrite_report(results: Sequence[Result], run_dir: Path) -> Path:
    """`write_report` for a finished run (`limitlab report`): a background process draws every other
    study's figures while this one draws the rest, so the two cores share the drawing."""
    with BackgroundRenderer(run_dir) as renderer:
        for r in results[1::2]:
            renderer.submit(r)
        render_figures(results[::2], run_dir)
        drawn = renderer.close() | {figure_file(r, f) for r in results[::2] for f in r.figures}
    return write_report(results, run_dir, drawn=drawn)


def write_report(results: Sequence[Result], run_dir: Path, *, drawn: Collection[str] = ()) -> Path:
    """Render the figures (except those in `drawn`) and write `index.html`; returns its path."""
    render_figures(results, run_dir, drawn=drawn)
    path = run_dir / "index.html"
    atomic_write_bytes(path, render_html(results, run_dir=run_dir).encode())
    return path


__all__ = ["BackgroundRenderer", "print_summary", "render_figures", "render_html", "rewrite_report", "summary_table",
           "write_report"]
