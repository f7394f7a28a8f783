"""The one extension point: a study. One file in `studies/`, one import line, one test file.

    @register("adversarial")
    class Adversarial(Study[AdversarialConfig]):
        '''Adversarial examples (Goodfellow et al. 2015). ... Verdict: holds if ...'''
        claim = "Small input changes chosen by gradient ascent on the loss flip predictions."
        sources = ("001", "002", "003")
        Config = AdversarialConfig
        presets = {"tiny": {...}, "full": {...}}      # "default" = the dataclass defaults
        def run(self, ctx) -> Result: ...             # measure; return self.result(ctx, metrics=...)
        def judge(self, m) -> Verdict: ...            # the verdict rule, a pure function of the metrics

`judge` is separate from `run` so the runner can apply the same rule to metrics averaged over seeds.
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
from limitlab.result import Figure, Metric, Result, Table, Verdict

C = TypeVar("C")

# The catalog (shared/STUDIES.md): id -> (chapter, sources). Registered studies must match it.
CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "backprop": ("representation", ("000",)),
    "approximation": ("representation", ("002", "004")),
    "depth": ("representation", ("004",)),
    "neural-ode": ("representation", ("004",)),
    "memorization": ("generalization", ("002",)),
    "data-hunger": ("generalization", ("000", "002")),
    "invariance": ("generalization", ("001", "003")),
    "bias": ("generalization", ("002",)),
    "adversarial": ("robustness", ("001", "002", "003")),
    "eot": ("robustness", ("002",)),
    "uncertainty": ("uncertainty", ("001", "002")),
    "calibration": ("uncertainty", ("001",)),
    "extrapolation": ("reasoning", ("001", "003")),
    "sorting": ("reasoning", ("003",)),
    "syntax": ("reasoning", ("001", "003")),
    "interpretability": ("interpretability", ("000",)),
    "automl": ("automl", ("002",)),
    "scale": ("cost", ("000", "001", "002")),
}

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

    def __init__(self, config: C | None = None) -> None:
        self.config: C = config if config is not None else self.Config()

    @classmethod
    def configure(
        cls, *, preset: str = "default", file_values: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Study[C]:
        """An instance with its config resolved: defaults -> preset -> file -> overrides."""
        cfg = _config.resolve(cls.Config, presets=cls.presets, preset=preset,
                              file_values=file_values, overrides=overrides)
        return cls(cfg)

    @classmethod
    def rule(cls) -> str:
        """The verdict rule: the paragraph starting "Verdict" in the class or the module docstring."""
        module = inspect.getmodule(cls)
        return verdict_rule(inspect.getdoc(cls), getattr(module, "__doc__", None))

    @abstractmethod
    def run(self, ctx: Context) -> Result:
        """Measure the claim with `self.config`; return `self.result(ctx, metrics=..., ...)`."""

    @abstractmethod
    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        """The verdict rule over metric values (means, over several seeds). Stated in the docstring."""

    def result(
        self, ctx: Context, *, metrics: Mapping[str, MetricLike], figures: Iterable[Figure] = (),
        tables: Iterable[Table] = (), samples: Iterable[dict[str, str]] = (),
    ) -> Result:
        """Assemble the Result: metrics as `Metric`s, the verdict from `judge`, the resolved config."""
        ms = {name: as_metric(value) for name, value in metrics.items()}
        verdict = self.judge({name: m.value for name, m in ms.items()})
        return Result(
            study=self.id, claim=self.claim, verdict=verdict.status, evidence=verdict.evidence,
            metrics=ms, figures=list(figures), tables=list(tables), samples=list(samples),
            config=_config.as_dict(self.config), chapter=self.chapter, sources=list(self.sources),
            rule=self.rule(), provenance={"seed": ctx.seed},
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


def register(study_id: str):
    """Class decorator: add a study to the registry under its catalog id."""

    def add(cls: type[Study]) -> type[Study]:
        if study_id not in CATALOG:
            raise ValueError(f"study id {study_id!r} is not in the catalog; valid ids: {', '.join(CATALOG)}")
        if study_id in REGISTRY and REGISTRY[study_id] is not cls:
            raise ValueError(f"study id {study_id!r} is registered twice")
        cls.id = study_id
        cls.chapter = CATALOG[study_id][0]
        REGISTRY[study_id] = cls
        return cls

    return add


def get_study(study_id: str) -> type[Study]:
    """The registered study class for `study_id`, or a ConfigError that lists the valid ids."""
    import limitlab.studies  # noqa: F401  (registers the studies)

    if study_id not in REGISTRY:
        raise ConfigError(f"unknown study {study_id!r}; valid ids: {', '.join(REGISTRY)} (see `limitlab list`)")
    return REGISTRY[study_id]


def all_studies() -> list[type[Study]]:
    """Every registered study, in catalog order."""
    import limitlab.studies  # noqa: F401

    return [REGISTRY[i] for i in CATALOG if i in REGISTRY]
