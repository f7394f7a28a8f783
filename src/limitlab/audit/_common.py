"""What the audit's sections share: the Study base they extend, interval-carrying metrics, the trust rule."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from torch import Tensor

from limitlab.config import Checked, Constraint, Interval
from limitlab.result import Metrics, MetricValues, Verdict
from limitlab.stats.binomial import proportion
from limitlab.stats.bootstrap import percentile_interval, resample_weights
from limitlab.study import Study


class Section(Study):
    """An audit section: a Study of the user's model and data (`limitlab.audit.subject.subject_of(ctx)`).

    Its "holds" means the limitation is present in *this* model, which is bad news for it: the report
    shows it as "found" in the colour of a failure. One seed: the model and the data are the user's, and
    the randomness that is left (attack starts, the calibration split, bootstrap draws) is covered by
    restarts and by the interval on every headline number, not by re-running."""

    labels: ClassVar = {"holds": ("found", "fails"), "fails": ("not found", "holds")}
    seeds: ClassVar = {"tiny": 1, "default": 1, "full": 1}

    @classmethod
    def missing(cls, subject) -> str | None:
        """Why this section cannot run on `subject` (e.g. "needs --train FILE"), or None when it can: a section
        left out of the default audit for that reason is named in the report, and asking for it is an error."""
        return None


@dataclass(frozen=True)
class IntervalConfig(Checked):
    """What every section's config has: the confidence level of its intervals (a section adds its fields)."""

    constraints: ClassVar = {"level": Interval(0, 1, closed="neither")}
    level: float = 0.95


@dataclass(frozen=True)
class BootstrapConfig(IntervalConfig):
    """... and, for a section with bootstrap intervals, how many resamples are behind them."""

    constraints: ClassVar = {**IntervalConfig.constraints, "num_bootstrap": Interval(10)}
    num_bootstrap: int = 1000


def with_intervals(**constraints: Constraint) -> dict[str, Constraint]:
    """A section config's constraints: its own, and those of `BootstrapConfig` (a superset of IntervalConfig's)."""
    return {**BootstrapConfig.constraints, **constraints}


@dataclass(frozen=True)
class PGDConfig(BootstrapConfig):
    """... and, for a section that attacks, the robustness section's PGD (Madry et al. 2018): `pgd_restarts`
    random restarts of `pgd_steps` steps of `step_ratio` * eps / steps. One definition, so the robustness,
    slices and remedies sections attack alike and their numbers agree."""

    constraints: ClassVar = with_intervals(pgd_steps=Interval(1), pgd_restarts=Interval(1),
                                           step_ratio=Interval(0, closed="neither"))
    pgd_steps: int = 10
    pgd_restarts: int = 4
    step_ratio: float = 2.5

    def pgd_strength(self) -> str:
        """The PGD as the report states it."""
        return (f"PGD: {self.pgd_restarts} random restart(s) x {self.pgd_steps} steps of {self.step_ratio:g} eps / "
                f"{self.pgd_steps}")


@dataclass(frozen=True)
class AttackConfig(PGDConfig):
    """... and the gradient-free Square attack (Andriushchenko et al. 2020) on what PGD left correct."""

    constraints: ClassVar = {**PGDConfig.constraints, "square_queries": Interval(1),
                             "square_p_init": Interval(0, 1, closed="right")}
    square_queries: int = 500
    square_p_init: float = 0.8

    def strength(self, square_at: Iterable[float]) -> str:
        """PGD and Square (run at `square_at`) as the report states them."""
        return (f"{self.pgd_strength()}; Square: {self.square_queries} queries (p_init {self.square_p_init:g}) at "
                f"eps {', '.join(f'{e:g}' for e in square_at)}")


def add_trust(m: Metrics, s) -> None:
    """The number `untrusted` reads: the share of inputs whose eval-mode output is not repeatable."""
    from limitlab.audit import checks

    m.add("nondeterministic_share", checks.nondeterministic_share(s), "fraction",
          "inputs whose eval-mode output changes between passes, with the batch's order or size")


def add_share(m: Metrics, name: str, flags: Tensor | np.ndarray, description: str, *, level: float = 0.95) -> None:
    """A share of inputs (an accuracy) with its exact Clopper-Pearson interval."""
    value, interval = proportion(flags, level=level)
    m.add(name, value, "fraction", description, interval=interval)


def add_bootstrap(m: Metrics, name: str, value: float | None, samples: np.ndarray, unit: str, description: str, *,
                  level: float = 0.95, noise: float | None = None) -> None:
    """A statistic with the percentile interval of its bootstrap samples."""
    interval = percentile_interval(samples, level=level) if value is not None and np.isfinite(value) else None
    m.add(name, value, unit, description, interval=interval, noise=noise)


def weights(n: int, *, num: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap count vectors (num, n), with the plain statistic's weights (all ones) as row 0."""
    return np.concatenate([np.ones((1, n)), resample_weights(n, num=num, rng=rng)])


def interval(m: MetricValues, name: str) -> tuple[float, float] | None:
    metric = m.metric(name)
    if metric is None or not metric.interval:
        return None
    lo, hi = metric.interval  # [lo, hi], as `Metrics.add` stores it
    return lo, hi


def compare(m: MetricValues, name: str, threshold: float) -> bool | None:
    """True if `name`'s interval lies wholly above `threshold`, False if wholly below, None if it straddles
    the threshold or was not measured (so the verdict is inconclusive there)."""
    iv = interval(m, name)
    if iv is None:
        return None
    return True if iv[0] > threshold else False if iv[1] < threshold else None


def untrusted(m: MetricValues) -> Verdict | None:
    """The rule every section shares: a forward pass that changes between identical passes (or with the
    batch's order) makes every number a draw, not a measurement: "unreliable"."""
    share = m["nondeterministic_share"]
    if share is None:
        return Verdict("inconclusive", "Not measured: whether the model's forward pass is deterministic.")
    if share > 0:
        return Verdict("unreliable", f"The model's eval-mode outputs change between identical passes on {share:.0%} "
                                     "of the inputs checked, so these numbers would change on a re-run; fix the "
                                     "randomness (or average it out, e.g. EOT for attacks) before auditing.")
    return None


def fmt(value: float | None, spec: str = ".3f", interval_: tuple[float, float] | None = None) -> str:
    """A number for an evidence sentence, with its interval; "n/a" when not measured."""
    if value is None:
        return "n/a"
    text = format(value, spec)
    return f"{text} [{format(interval_[0], spec)}, {format(interval_[1], spec)}]" if interval_ else text


def shown(m: MetricValues, name: str, spec: str = ".3f") -> str:
    return fmt(m[name], spec, interval(m, name))
