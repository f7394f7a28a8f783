"""Results as a notebook and pandas want them: a list that prints short, and one row per metric.

`Results` is what `limitlab.run` returns (and what `limitlab.audit` extends); `to_frame` turns any
Results into a DataFrame: one row per (study, seed, metric) with value, unit, the spread over seeds,
the interval and noise floor, and that seed's verdict. Core layer: no torch, no study.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from limitlab.errors import ConfigError
from limitlab.result import Result


class Results(list):
    """A list of Results that prints short, shows a verdict table in a notebook, and has `to_frame()`."""

    run_dir: Path | None = None

    def __repr__(self) -> str:
        return "[" + ",\n ".join(map(repr, self)) + "]"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(r.study)}</td><td><b>{html.escape(r.verdict)}</b></td>"
                       f"<td>{html.escape(r.evidence)}</td></tr>" for r in self)
        return f"<table><tr><th>study</th><th>verdict</th><th>evidence</th></tr>{rows}</table>"

    def to_frame(self) -> Any:
        return to_frame(self)



def to_frame(results: Iterable[Result]) -> Any:
    """One row per (study, seed, metric): value, unit, the spread over seeds, the interval and noise
    floor, and that seed's verdict. Needs pandas (`pip install 'limitlab[frame]'`)."""
    if importlib.util.find_spec("pandas") is None:
        raise ConfigError("to_frame needs pandas, which is not installed; install it with "
                          "pip install 'limitlab[frame]'")
    import pandas as pd

    rows = []
    for r in results:
        seeds = r.seeds or [{"seed": r.provenance.get("seed"), "verdict": r.verdict}]
        for name, m in r.metrics.items():
            values = m.values if m.values is not None and len(m.values) == len(seeds) else [m.value]
            for k, value in enumerate(values):
                lo, hi = (m.interval[0], m.interval[1]) if m.interval else (None, None)
                rows.append({"study": r.study, "seed": seeds[k]["seed"] if k < len(seeds) else None,
                             "metric": name, "value": value, "unit": m.unit, "spread": m.spread,
                             "interval_lo": lo, "interval_hi": hi, "noise": m.noise,
                             "verdict": seeds[k]["verdict"] if k < len(seeds) else r.verdict,
                             "study_verdict": r.verdict})
    return pd.DataFrame(rows, columns=["study", "seed", "metric", "value", "unit", "spread", "interval_lo",
                                       "interval_hi", "noise", "verdict", "study_verdict"])


__all__ = ["Results", "to_frame"]
