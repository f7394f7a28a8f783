"""Hand-made metrics for testing a study's rule: values with their noise floors and, over seeds, their spread."""
from __future__ import annotations

from collections.abc import Mapping

from limitlab.result import Metric, MetricValues


def metric_values(values: Mapping[str, float | None], noise: Mapping[str, float] | None = None,
                  spread: Mapping[str, float] | None = None) -> MetricValues:
    """What `judge` reads: each value with its noise floor (`noise`) and seed spread (`spread`), where given."""
    noise, spread = noise or {}, spread or {}
    return MetricValues({k: Metric(v, noise=noise.get(k), spread=spread.get(k)) for k, v in values.items()})
