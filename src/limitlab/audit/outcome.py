"""What `limitlab.audit(model, x, y)` returns: the sections' Results, as a notebook and a script want them.

    report = limitlab.audit(model, x, y)
    report                      # <AuditReport of Net on 360 inputs: robustness found, calibration ...>
    report["robustness"]        # one section's Result (also report[1], and iteration in section order)
    report.to_frame()           # every metric with its interval and noise floor (pandas)
    report.save("runs")         # the same run folder and HTML report as `limitlab audit`
"""
from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from limitlab import rundir
from limitlab.errors import ConfigError
from limitlab.frame import Results
from limitlab.result import Result


def label(r: Result) -> str:
    """The verdict as the report shows it ("found", "not found", ...: an audit's "holds" is bad news)."""
    return (r.labels.get(r.verdict) or [r.verdict])[0]


class AuditReport(Results):
    """The audit's Results in section order (a list), with the subject they measured."""

    def __init__(self, results: Iterable[Result], *, subject: dict[str, Any], identity: dict[str, Any]) -> None:
        super().__init__(results)
        self.subject, self.identity = dict(subject), dict(identity)

    def section(self, name: str) -> Result:
        for r in self:
            if r.study in (name, f"audit-{name}"):
                return r
        raise ConfigError(f"no section {name!r} in this audit; it has "
                          f"{', '.join(r.study.removeprefix('audit-') for r in self)}")

    def __getitem__(self, key: Any) -> Any:
        return self.section(key) if isinstance(key, str) else super().__getitem__(key)

    def __repr__(self) -> str:
        what = self.subject.get("model", "model")
        sample = f" ({self.subject['sample']})" if self.subject.get("sample") else ""
        parts = ", ".join(f"{r.study.removeprefix('audit-')} {label(r)}" for r in self)
        return f"<AuditReport of {what}{sample}: {parts}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(r.study.removeprefix('audit-'))}</td><td><b>{html.escape(label(r))}"
                       f"</b></td><td>{html.escape(r.evidence)}</td></tr>" for r in self)
        return (f"<div><b>limitlab audit</b> of <code>{html.escape(str(self.subject.get('model', '')))}</code>"
                f"<table><tr><th>section</th><th>verdict</th><th>evidence</th></tr>{rows}</table></div>")

    def save(self, out: str | Path = "runs") -> Path:
        """Write a run folder under `out` (results.json, figures, index.html) as `limitlab audit` does; returns it."""
        from limitlab.report import render_figures, write_report

        run_dir = rundir.create(Path(out), {**self.identity, "kind": "audit", "subject": self.subject})
        drawn = [render_figures(r, run_dir) for r in self]
        rundir.write_results(run_dir, drawn)
        write_report(drawn, run_dir, title="limitlab audit")
        self.run_dir = run_dir
        return run_dir
