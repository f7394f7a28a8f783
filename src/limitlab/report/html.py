"""The self-contained HTML report: a pure render of the Results (Jinja2, autoescaped, figures inline)."""
from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from limitlab.report import verdicts
from limitlab.result import Metric, Result, figure_file

ORDER = ("holds", "fails", "inconclusive", "unreliable", "error")  # header counts in this order of colour


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def format_metric(m: Metric) -> str:
    text = _fmt(m.value)
    if m.spread is not None and m.values and len(m.values) > 1:
        text += f" ± {_fmt(m.spread)}"
    if m.interval is not None and len(m.interval) == 2:
        text += f" [{_fmt(m.interval[0])}, {_fmt(m.interval[1])}]"
    return text


def format_noise(m: Metric) -> str:
    return "" if m.noise is None else _fmt(m.noise)


def render_html(results: Sequence[Result], *, run_dir: Path, title: str = "limitlab report") -> str:
    env = Environment(loader=PackageLoader("limitlab.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["metric"], env.filters["noise"] = format_metric, format_noise
    env.filters["label"], env.filters["tone"] = verdicts.label, verdicts.tone
    env.filters["status_label"], env.filters["status_tone"] = verdicts.status_label, verdicts.status_tone
    images = {}
    for r in results:
        for f in r.figures:
            path = run_dir / figure_file(r.study, f.id)  # never a path read from the results file
            if path.is_file():
                images[f.id, r.study] = base64.b64encode(path.read_bytes()).decode()
    counts = sorted(Counter((verdicts.label(r), verdicts.tone(r)) for r in results).items(),
                    key=lambda item: ORDER.index(item[0][1]))
    return env.get_template("report.html.j2").render(
        title=title, results=results, images=images, counts=counts, run_dir=run_dir.name)
