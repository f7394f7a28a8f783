"""Result JSON -> terminal table, figures (PNG) and a self-contained HTML report. Never imports torch.

The HTML is a pure render of the Results and the figure files beside them (RobustBench's discipline):
the worker that ran a study drew its figures (`render_figures`), at paths that are a pure function of
(study, figure id); `write_report` only reads them.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from limitlab._io import atomic_write_bytes
from limitlab.report.html import render_html
from limitlab.report.terminal import print_summary, summary_table
from limitlab.result import Result, figure_file


def render_figures(result: Result, run_dir: Path, *, missing_only: bool = False) -> Result:
    """Draw each of the result's figures to `figure_file(study, id)` and record the file (or, for a
    figure that cannot be drawn, why: a bad panel costs that figure, not the run)."""
    for f in result.figures:
        rel = figure_file(result.study, f.id)
        if missing_only and (run_dir / rel).exists():
            f.file, f.error = rel, None
            continue
        try:
            from limitlab.report.figures import render  # matplotlib loads only when figures are drawn

            atomic_write_bytes(run_dir / rel, render(f))
        except OSError:
            raise
        except Exception as err:  # noqa: BLE001  (any failure to draw one figure is recorded in its place)
            f.file, f.error = None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        else:
            f.file, f.error = rel, None
    return result


def _render_into(result: Result, run_dir: Path) -> Result:
    return render_figures(result, run_dir)


def rerender(results: Sequence[Result], run_dir: Path, *, jobs: int = 2) -> list[Result]:
    """Draw every figure of a finished run again (`limitlab report`), `jobs` results at a time."""
    if jobs <= 1 or len(results) <= 1:
        return [render_figures(r, run_dir) for r in results]
    with ProcessPoolExecutor(max_workers=min(jobs, len(results))) as pool:
        return list(pool.map(_render_into, results, [run_dir] * len(results)))


def write_report(results: Sequence[Result], run_dir: Path, *, title: str = "limitlab report") -> Path:
    """Write `index.html` from the Results and the figure files already in `run_dir`; returns its path."""
    path = Path(run_dir) / "index.html"
    atomic_write_bytes(path, render_html(results, run_dir=Path(run_dir), title=title).encode())
    return path


__all__ = ["print_summary", "render_figures", "render_html", "rerender", "summary_table", "write_report"]
