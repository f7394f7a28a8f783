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

from limitlab.panels import check_panel

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

        `parts` maps a part's name to whether it held (None: it could not be measured or sits inside its
        noise, which never counts as holding). Build a `decisive` part with `decided`, so that only a
        miss beyond the noise is False and fails the claim. `text` is the evidence with the numbers; the
        names of the parts that did not hold are appended (or the sentence `missing[name]` says for them).
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
    def over_seeds(cls, values: Iterable[float | None], unit: str = "", description: str = "", *,
                   noise: float | None = None) -> Metric:
        """The mean of per-seed values, with their sample standard deviation (n - 1) as the spread: the
        statistics the runner reports over `--seeds`. None (not measured) is kept in `values`, left out
        of the mean and spread."""
        vals = [None if v is None else float(v) for v in values]
        finite = [v for v in vals if v is not None]
        return cls(statistics.fmean(finite) if finite else None, unit, description,
                   statistics.stdev(finite) if len(finite) > 1 else None, vals, noise=noise)


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


def decided(value: float | None, threshold: float | None, *, noise: float | None = None, above: bool = True
            ) -> bool | None:
    """A comparison with three outcomes: True when `value` is above `threshold` (below it, with above=False) by
    more than `noise`; False when it is on the other side by more than `noise`; None within the noise, or when
    either side was not measured. A part that is None is "not shown", never a measured failure."""
    if value is None or threshold is None:
        return None
    margin, noise = (value - threshold) * (1 if above else -1), noise or 0.0
    return True if margin > noise else (False if margin < -noise else None)


def standard_error(values: Iterable[float | None]) -> float | None:
    """The standard error of the mean of the measured `values`: sample std (n - 1) / sqrt(n); None below two."""
    vals = [float(v) for v in values if v is not None]
    return statistics.stdev(vals) / math.sqrt(len(vals)) if len(vals) > 1 else None


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


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


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
        for k, panel in enumerate(self.panels):
            check_panel(panel, where=f"figure {self.id!r} panel {k}")


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
    advice: str = ""  # what to try next and why (an audit section's remedy card)
    error: str | None = None
    # Over several seeds: each seed's own verdict, [{"seed", "verdict", "evidence"}], judged by the same rule.
    seeds: list[dict[str, Any]] = field(default_factory=list)
    # How a status reads on screen, when not as itself: status -> [word, the status whose colour it takes].
    # An audit section's "holds" (the limitation is present) reads ["found", "fails"].
    labels: dict[str, list[str]] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def metric(self, name: str) -> float | None:
        return self.metrics[name].value

    def __repr__(self) -> str:  # short: a notebook prints Results often, and figures hold a lot of data
        seeds = f" on {sum(s['verdict'] == self.verdict for s in self.seeds)}/{len(self.seeds)} seeds" \
            if len(self.seeds) > 1 else ""
        return (f"<Result {self.study}: {self.verdict}{seeds}, {len(self.metrics)} metrics, "
                f"{len(self.figures)} figures>")

    def _repr_html_(self) -> str:
        """The verdict, its evidence and the metric table, for notebooks (every string escaped)."""
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(k)}</code></td><td>{_number(m.value)}"
            f"{' ± ' + _number(m.spread) if m.spread is not None else ''}</td><td>{html.escape(m.unit)}</td>"
            f"<td>{html.escape(m.description)}</td></tr>" for k, m in self.metrics.items())
        return (f"<div><b>{html.escape(self.study)}</b>: <b>{html.escape(self.verdict)}</b>"
                f"<p>{html.escape(self.evidence)}</p><table><tr><th>metric</th><th>value</th><th>unit</th>"
                f"<th>what it is</th></tr>{rows}</table></div>")

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
        for name, kind in (("study", str), ("claim", str), ("evidence", str), ("advice", str), ("metrics", dict),
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
