"""The one extension point: a study. One file in `studies/`, one import line, one test file.

    @register("adversarial", chapter="robustness", sources=("001", "002", "003"))
    class Adversarial(Study[AdversarialConfig]):
        '''Adversarial examples (Goodfellow et al. 2015). ... Verdict: holds if ...'''
        claim = "Small input changes chosen by gradient ascent on the loss flip predictions."
        Config = AdversarialConfig
        presets = {"tiny": {...}, "full": {...}}      # "default" = the dataclass defaults
        def run(self, ctx) -> Result: ...             # measure; return self.result(ctx, metrics=...)
        def judge(self, m) -> Verdict: ...            # the verdict rule, a pure function of the metrics

`judge` is separate from `run` so the runner can apply the same rule to every seed's metrics (and
to their means, for the evidence sentence). The registry holds each study's metadata (chapter,
sources); it never imports the studies: the layers above (`limitlab.studies`, the runner, the CLI)
load them explicitly.
"""
from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from limitlab import config as _config
from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Figure, Metric, Metrics, MetricValues, Result, Table, Verdict

C = TypeVar("C")
AUDIT_CHAPTER = "audit"  # sections of `limitlab audit`: studies of the user's model, not of deep learning

REGISTRY: dict[str, type[Study]] = {}

MetricLike = Metric | float | int | tuple


class Study(ABC, Generic[C]):
    """Base class of every study. Subclasses set the class attributes and implement `run` and `judge`."""

    id: ClassVar[str]
    chapter: ClassVar[str]
    claim: ClassVar[str]
    sources: ClassVar[tuple[str, ...]]
    Config: ClassVar[type]
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    # Seeds each preset runs by default (`--seeds` overrides): every verdict is decided over seeds.
    seeds: ClassVar[dict[str, int]] = {"tiny": 1, "default": 3, "full": 5}
    # How a status reads on screen when not as itself (see `Result.labels`).
    labels: ClassVar[dict[str, tuple[str, str]]] = {}
    # Optional packages the study imports ("optuna", ...): checked at plan time, before any work.
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: C | None = None) -> None:
        self.config: C = config if config is not None else self.Config()

    @classmethod
    def configure(
        cls, *, preset: str = "default", file_values: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Study[C]:
        """An instance with its config resolved: defaults -> preset -> file -> overrides."""
        try:
            cfg: C = _config.resolve(cls.Config, presets=cls.presets, preset=preset,
                                  file_values=file_values, overrides=overrides)
        except ConfigError as err:
            raise ConfigError(f"{cls.id}: {err}") from None
        return cls(cfg)

    @classmethod
    def num_seeds(cls, preset: str) -> int:
        """How many seeds `preset` runs by default."""
        return cls.seeds.get(preset, cls.seeds.get("default", 1))

    @classmethod
    def rule(cls) -> str:
        """The verdict rule: the paragraph starting "Verdict" in the class or the module docstring."""
        module = inspect.getmodule(cls)
        return verdict_rule(inspect.getdoc(cls), getattr(module, "__doc__", None))

    @abstractmethod
    def run(self, ctx: Context) -> Result:
        """Measure the claim with `self.config`; return `self.result(ctx, metrics=..., ...)`."""

    @abstractmethod
    def judge(self, m: MetricValues) -> Verdict:
        """The verdict rule over metric values, stated in the docstring. `m[name]` is a value or None
        (not measured: the rule must then not hold); `m.metric(name)` has its interval and noise floor."""

    def verdict(self, metrics: Mapping[str, Metric]) -> Verdict:
        """`judge` over these metrics."""
        return self.judge(MetricValues(metrics))

    def advise(self, verdict: Verdict, m: MetricValues) -> str:
        """What to try next, and why, given this verdict (an audit section's card says it; "" for none)."""
        return ""

    def result(
        self, ctx: Context, *, metrics: Mapping[str, MetricLike], figures: Iterable[Figure] = (),
        tables: Iterable[Table] = (), samples: Iterable[dict[str, str]] = (),
    ) -> Result:
        """Assemble the Result: metrics as `Metric`s, the verdict from `judge`, the resolved config."""
        ms = Metrics({name: as_metric(value) for name, value in metrics.items()})
        verdict = self.verdict(ms)
        return Result(
            study=self.id, claim=self.claim, verdict=verdict.status, evidence=verdict.evidence,
            advice=self.advise(verdict, MetricValues(ms)),
            metrics=dict(ms), figures=list(figures), tables=list(tables), samples=list(samples),
            config=_config.as_dict(self.config), chapter=self.chapter, sources=list(self.sources),
            rule=self.rule(), provenance={"seed": ctx.seed}, labels={k: list(v) for k, v in self.labels.items()},
        )


def verdict_rule(*docs: str | None) -> str:
    """The paragraph starting "Verdict" in the first of `docs` that has one, on one line (or "")."""
    doc = "\n\n".join(filter(None, docs))
    match = re.search(r"^Verdict\b.*?(?=\n\s*\n|\Z)", doc, flags=re.S | re.M)
    return " ".join(match.group(0).split()) if match else ""


def as_metric(value: MetricLike) -> Metric:
    """A `Metric` from a Metric, a (value, unit, description) tuple or a number; NaN/Inf -> None."""
    if isinstance(value, Metric):
        metric = value
    elif isinstance(value, tuple):
        metric = Metric(*value)
    else:
        metric = Metric(value)
    v = metric.value
    metric.value = None if v is None or v != v or v in (float("inf"), float("-inf")) else float(v)
    return metric


def register(study_id: str, *, chapter: str, sources: tuple[str, ...] = ()):
    """Class decorator: add a study to the registry with its metadata (the catalog's chapter and
    sources, `shared/STUDIES.md`; an audit section has chapter `AUDIT_CHAPTER`)."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", study_id):
        raise ValueError(f"study id {study_id!r}; expected lower-case letters, digits and '-'")

    def add(cls: type[Study]) -> type[Study]:
        if study_id in REGISTRY and REGISTRY[study_id].__qualname__ != cls.__qualname__:
            raise ValueError(f"study id {study_id!r} is registered twice")
        cls.id, cls.chapter, cls.sources = study_id, chapter, tuple(sources)
        REGISTRY[study_id] = cls
        return cls

    return add


def get_study(study_id: str) -> type[Study]:
    """The registered study class for `study_id`, or a ConfigError that lists the valid ids."""
    if study_id not in REGISTRY:
        valid = ", ".join(s.id for s in all_studies())
        raise ConfigError(f"unknown study {study_id!r}; valid ids: {valid} (see `limitlab list`)")
    return REGISTRY[study_id]


def all_studies(*, audit: bool = False) -> list[type[Study]]:
    """The registered studies in registration order (the catalog's), or with `audit` the audit sections."""
    return [s for s in REGISTRY.values() if (s.chapter == AUDIT_CHAPTER) == audit]
