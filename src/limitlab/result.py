"""`Result`: the plain data a study returns, with a lossless JSON round trip.

Everything a report shows is in here and was measured in the run that wrote it: the verdict and its
one-line evidence, the metrics, the data behind every figure, tables, text samples, the resolved
config and provenance. The report layer reads only this (never torch, never a study).
"""
from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1
VerdictStatus = Literal["holds", "fails", "inconclusive", "error"]
VERDICTS: tuple[str, ...] = ("holds", "fails", "inconclusive", "error")


def to_plain(obj: Any) -> Any:
    """Tensors, arrays and numpy scalars -> lists and floats; NaN/Inf -> None (JSON has neither)."""
    if hasattr(obj, "detach"):  # a torch tensor, without importing torch here
        obj = obj.detach().cpu().numpy()
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        obj = obj.tolist()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Verdict:
    """A study's judgement of its own metrics: the status and the evidence sentence with the numbers."""

    status: VerdictStatus
    evidence: str


@dataclass
class Metric:
    """One measured number. `value` is None when it could not be measured (e.g. no wrong predictions).

    Over several seeds, `value` is the mean, `spread` the standard deviation and `values` the per-seed list.
    """

    value: float | None
    unit: str = ""
    description: str = ""
    spread: float | None = None
    values: list[float | None] | None = None

    @classmethod
    def over_seeds(cls, values: Iterable[float], unit: str = "", description: str = "") -> Metric:
        """The mean of per-seed values, with their sample standard deviation (n - 1) as the spread:
        the same statistics the runner reports over `--seeds`."""
        vals = [float(v) for v in values]
        return cls(statistics.fmean(vals), unit, description, statistics.stdev(vals) if len(vals) > 1 else None,
                   vals)


@dataclass
class Figure:
    """A figure as data: panels of a known kind (see `limitlab.figures`), rendered by the report."""

    id: str
    title: str
    panels: list[dict[str, Any]]
    caption: str = ""
    file: str | None = None  # the rendered PNG, relative to the run folder; set by the report


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""


@dataclass
class Result:
    study: str
    claim: str
    verdict: VerdictStatus
    evidence: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    samples: list[dict[str, str]] = field(default_factory=list)  # {"title": ..., "text": ...}
    config: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    chapter: str = ""
    sources: list[str] = field(default_factory=list)
    rule: str = ""  # the verdict rule, as stated in the study's docstring
    rerun: str = ""  # the command line that reproduces this result
    error: str | None = None
    schema: int = SCHEMA_VERSION

    def metric(self, name: str) -> float | None:
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        return to_plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        schema = data.get("schema")
        if schema != SCHEMA_VERSION:
            raise ValueError(f"result schema {schema!r} is not {SCHEMA_VERSION}; re-run the study")
        data = dict(data)
        data["metrics"] = {k: Metric(**v) for k, v in data.get("metrics", {}).items()}
        data["figures"] = [Figure(**f) for f in data.get("figures", [])]
        data["tables"] = [Table(**t) for t in data.get("tables", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))
