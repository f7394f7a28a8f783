"""The self-contained HTML report: a pure render of the Results (Jinja2, autoescaped, figures inline)."""
from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from limitlab.report import verdicts
from limitlab.result import Metric, Result

ORDER = ("holds", "fails", "inconclusive", "error")  # header counts in this order of colour


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
    return text


def render_html(results: Sequence[Result], *, run_dir: Path, title: str = "limitlab report") -> str:
    env = Environment(loader=PackageLoader("limitlab.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["metric"] = format_metric
    env.filters["label"], env.filters["tone"] = verdicts.label, verdicts.tone
    images = {}
    for r in results:
        for f in r.figures:
            if f.file and (run_dir / f.file).exists():
                images[f.file] = base64.b64encode((run_dir / f.file).read_bytes()).decode()
    counts = sorted(Counter((verdicts.label(r), verdicts.tone(r)) for r in results).items(),
                    key=lambda item: ORDER.index(item[0][1]))
    return env.get_template("report.html.j2").render(
        title=title, results=results, images=images, counts=counts, run_dir=run_dir.name)
