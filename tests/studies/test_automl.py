"""The automl study: metrics consistent with the traces, and the verdict rule."""
from __future__ import annotations

import pytest

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.automl import Automl, AutomlConfig


def test_tiny_run_metrics_agree_with_its_tables():
    study = Automl.configure(preset="tiny")
    result = study.run(Context(seed=0, threads=1))
    m = {k: v.value for k, v in result.metrics.items()}
    best = {row[0]: row for row in result.tables[0].rows}
    for method in ("controller", "random", "tpe"):
        assert float(best[method][3]) == pytest.approx(m[f"best_val_{method}"], abs=5e-4)
        assert m[f"best_val_{method}"] >= m[f"mean_reward_{method}"]
        assert m[f"anytime_{method}"] <= m[f"best_val_{method}"]
        assert 1 <= m[f"distinct_{method}"] <= 4
    assert m["children_per_method"] == 4
    assert m["children_trained"] <= 3 * 4 and m["space_size"] == 135
    assert float(best["hand-designed"][3]) == pytest.approx(m["hand_val"], abs=5e-4)
    assert m["hand_params"] == 38_282
    assert result.verdict == study.judge(MetricValues(result.metrics)).status


def test_verdict_rule():
    study = Automl()
    m = {"best_val_controller": 0.90, "best_val_random": 0.90, "best_val_tpe": 0.9, "hand_val": 0.9,
         "children_per_method": 24, "controller_reward_rise": 0.0, "children_trained": 30, "training_steps": 100,
         "space_size": 135, "mean_reward_controller": 0.8, "mean_reward_random": 0.7}
    values = lambda: MetricValues({k: Metric(v) for k, v in m.items()})  # noqa: E731
    assert study.judge(values()).status == "fails"  # a tie with random search is not a win
    m["best_val_controller"] = 0.91
    assert study.judge(values()).status == "holds"
    m["hand_val"] = 0.95
    assert study.judge(values()).status == "inconclusive"
    m["best_val_random"] = None
    assert study.judge(values()).status == "inconclusive"  # not measured: not a decisive failure


def test_config_needs_the_controller_and_random():
    with pytest.raises(ConfigError, match="controller"):
        AutomlConfig(methods=("random", "tpe"))
    with pytest.raises(ConfigError, match="methods"):
        Automl.configure(overrides={"methods": "controller,random,nope"})
