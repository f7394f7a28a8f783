"""`Result`: the plain data a study returns, with a lossless JSON round trip.

Everything a report shows is in here and was measured in the run that wrote it: the verdict and its
one-line evidence, the metrics, the data behind every figure, tables, text samples, the resolved
config and provenance. The report layer reads only this (never torch, never a study).
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import statistics
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 2
VerdictStatus = Literal["holds", "fails", "inconclusive", "unreliable", "error"]
# "unreliable": the measurement itself cannot be trusted (an audit's masked gradients, probabilities
# taken for logits, too few inputs); never shown as a pass. "error": the study crashed.
VERDICTS: tuple[str, ...] = ("holds", "fails", "inconclusive", "unreliable", "error")


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

    @classmethod
    def combine(cls, parts: Mapping[str, bool | None], text: str, *, decisive: Collection[str] = (),
                missing: Mapping[str, str] | None = None) -> Verdict:
        """The rule most studies state: "holds if every part holds; fails if a decisive part fails;
        inconclusive otherwise".

        `parts` maps a part's name to whether it held (None: it could not be measured, which never
        counts as holding). `text` is the evidence with the numbers; the names of the parts that did
        not hold are appended (or the sentence `missing[name]` says for them, when given).
        """
        if not parts:
            raise ValueError("Verdict.combine needs at least one part")
        failed = [name for name, ok in parts.items() if not ok]
        text = text.rstrip(".")
        if not failed:
            return cls("holds", f"{text}.")
        missing = missing or {}
        said = " ".join(missing[n] for n in failed if n in missing)
        rest = [n for n in failed if n not in missing]
        tail = " ".join(filter(None, [said, f"Not shown: {', '.join(rest)}." if rest else ""]))
        status: VerdictStatus = "fails" if any(parts[n] is False and n in decisive for n in failed) else "inconclusive"
        return cls(status, f"{text}. {tail}")


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
    interval: list[float] | None = None  # a confidence interval [lo, hi] for `value` (e.g. bootstrap, 95%)
    noise: float | None = None  # the metric's computed noise floor (e.g. ECE of a calibrated predictor on n points)

    @classmethod
    def over_seeds(cls, values: Iterable[float], unit: str = "", description: str = "") -> Metric:
        """The mean of per-seed values, with their sample standard deviation (n - 1) as the spread:
        the same statistics the runner reports over `--seeds`."""
        vals = [float(v) for v in values]
        return cls(statistics.fmean(vals), unit, description, statistics.stdev(vals) if len(vals) > 1 else None,
                   vals)


def at_least(value: float | None, threshold: float | None, *, noise: float | None = None) -> bool | None:
    """A rule's comparison, None-safe: None if either side was not measured; else value >= threshold,
    and when `noise` is given, value - threshold > noise (a margin inside the noise does not count)."""
    if value is None or threshold is None:
        return None
    return value - threshold > noise if noise is not None else value >= threshold


def at_most(value: float | None, threshold: float | None, *, noise: float | None = None) -> bool | None:
    """The mirror of `at_least`: value <= threshold (by more than `noise`, when given)."""
    if value is None or threshold is None:
        return None
    return threshold - value > noise if noise is not None else value <= threshold


def every(parts: Iterable[bool | None]) -> bool | None:
    """A part made of several comparisons, None-safe: False if any is False (a measured failure), else None
    if any was not measured, else True."""
    parts = list(parts)
    if any(p is False for p in parts):
        return False
    return None if any(p is None for p in parts) else True


def fmt(value: float | None, spec: str = "g") -> str:
    """A number for an evidence sentence, `format(value, spec)`; "n/a" when it was not measured."""
    return "n/a" if value is None else format(value, spec)


class Metrics(dict):
    """The one form of a study's metrics: name -> `Metric`, filled with `add`.

        m = Metrics()
        m.add("clean_acc", 0.97, "fraction", "test accuracy", interval=(0.95, 0.98))

    NaN and infinities are stored as None ("could not be measured"), never as numbers.
    """

    def add(self, name: str, value: float | None, unit: str = "", description: str = "", *,
            interval: tuple[float, float] | None = None, noise: float | None = None) -> Metric:
        metric = Metric(_finite(value), unit, description,
                        interval=None if interval is None else [float(v) for v in interval],
                        noise=_finite(noise))
        self[name] = metric
        return metric

    def view(self) -> MetricValues:
        return MetricValues(self)


class MetricValues(Mapping):
    """What `judge` reads: `m[name]` is the value (float or None); `m.metric(name)` the whole `Metric`
    (its interval, noise floor and spread over seeds). A name that was not measured reads None."""

    def __init__(self, metrics: Mapping[str, Metric]) -> None:
        self._metrics = metrics

    def __getitem__(self, name: str) -> float | None:
        metric = self._metrics.get(name)
        return None if metric is None else metric.value

    def __iter__(self) -> Iterator[str]:
        return iter(self._metrics)

    def __len__(self) -> int:
        return len(self._metrics)

    def metric(self, name: str) -> Metric | None:
        return self._metrics.get(name)


def _metric(name: str, data: Any) -> Metric:
    metric = Metric(**data)
    if not (metric.value is None or isinstance(metric.value, (int, float))) or isinstance(metric.value, bool):
        raise ValueError(f"metric {name!r} has value {metric.value!r}, not a number")
    return metric


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class Figure:
    """A figure as data: panels of a known kind (see `limitlab.figures`), rendered by the report."""

    id: str
    title: str
    panels: list[dict[str, Any]]
    caption: str = ""
    file: str | None = None  # the rendered PNG, relative to the run folder (`figure_file`), once drawn
    error: str | None = None  # why it could not be drawn, if it could not

    def __post_init__(self) -> None:
        # The id names a file: letters, digits, '-' and '_' only (a crafted id cannot point elsewhere).
        if not isinstance(self.id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", self.id):
            raise ValueError(f"figure id {self.id!r}; expected letters, digits, '-' and '_' (a file name)")
        if not isinstance(self.panels, list) or not all(isinstance(p, dict) for p in self.panels):
            raise ValueError(f"figure {self.id!r}: panels must be a list of panel tables")


def figure_file(study: str, figure_id: str) -> str:
    """Where a figure's PNG goes, relative to the run folder: a pure function of (study, figure id)."""
    return f"figures/{study}-{figure_id}.png"


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
    # Over several seeds: each seed's own verdict, [{"seed", "verdict", "evidence"}], judged by the same rule.
    seeds: list[dict[str, Any]] = field(default_factory=list)
    # How a status reads on screen, when not as itself: status -> [word, the status whose colour it takes].
    # An audit section's "holds" (the limitation is present) reads ["found", "fails"].
    labels: dict[str, list[str]] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def metric(self, name: str) -> float | None:
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        return to_plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """The Result a `to_dict` wrote; a ValueError naming the first field that is not what it should be
        (a results file is data from disk: nothing in it is trusted)."""
        if not isinstance(data, dict):
            raise ValueError(f"a result is a {type(data).__name__}, not a table")
        schema = data.get("schema")
        if schema != SCHEMA_VERSION:
            raise ValueError(f"result schema {schema!r} is not {SCHEMA_VERSION}; re-run the study")
        data = dict(data)
        for name, kind in (("study", str), ("claim", str), ("evidence", str), ("metrics", dict),
                           ("figures", list), ("tables", list), ("config", dict), ("provenance", dict)):
            if not isinstance(data.get(name, kind()), kind):
                raise ValueError(f"field {name!r} is a {type(data[name]).__name__}, not a {kind.__name__}")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,63}", data.get("study", "")):
            raise ValueError(f"study id {data.get('study')!r}; expected lower-case letters, digits and '-'")
        if data.get("verdict") not in VERDICTS:
            raise ValueError(f"verdict {data.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
        data["metrics"] = {str(k): _metric(k, v) for k, v in data.get("metrics", {}).items()}
        data["figures"] = [Figure(**f) for f in data.get("figures", [])]
        data["tables"] = [Table(**t) for t in data.get("tables", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))
