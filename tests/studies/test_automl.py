"""The automl study: metrics consistent with the traces and tables, and the verdict rule on paired gains."""
from __future__ import annotations

import statistics

import pytest

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.automl import Automl, AutomlConfig


def test_tiny_run_metrics_agree_with_its_tables():
    study = Automl.configure(preset="tiny")
    result = study.run(Context(seed=0, threads=1))
    m = result.metrics
    rows = result.tables[0].rows
    for method in ("controller", "random", "tpe"):
        per_seed = [float(r[3]) for r in rows if r[0] == method]
        assert len(per_seed) == 2
        assert statistics.fmean(per_seed) == pytest.approx(m[f"best_val_{method}"].value, abs=5e-4)
        assert m[f"best_val_{method}"].value >= m[f"mean_reward_{method}"].value
        assert m[f"anytime_{method}"].value <= m[f"best_val_{method}"].value
    gains = [a - b for a, b in zip(m["best_val_controller"].values, m["best_val_random"].values)]
    assert m["gain_controller"].values == pytest.approx(gains)
    assert m["gain_controller"].noise == pytest.approx(2 * statistics.stdev(gains) / 2 ** 0.5)  # 2 SE, 2 seeds
    assert m["children_per_method"].value == 8 and m["space_size"].value == 135
    assert m["hand_params"].value == 38_282
    assert result.verdict == study.judge(MetricValues(result.metrics)).status


def values(**changes):
    m = {"best_val_controller": 0.92, "best_val_random": 0.92, "best_val_tpe": 0.92, "hand_val": 0.92,
         "gain_controller": 0.0, "children_per_method": 60, "controller_reward_rise": 0.0, "children_trained": 80,
         "training_steps": 100, "space_size": 135, "mean_reward_controller": 0.8, "mean_reward_random": 0.7}
    m.update(changes)
    noise = {"gain_controller": 0.004, "best_val_controller": 0.003}
    return MetricValues({k: Metric(v, noise=noise.get(k)) for k, v in m.items()})


def test_verdict_rule():
    study = Automl()
    assert study.judge(values()).status == "fails"  # a tie with random search, beyond the noise, is not a win
    assert study.judge(values(gain_controller=0.02)).status == "holds"  # one point clear by more than 0.004
    assert study.judge(values(gain_controller=0.012)).status == "inconclusive"  # within the noise of one point
    assert study.judge(values(gain_controller=0.02, hand_val=0.95)).status == "inconclusive"  # finds: 3 points off
    assert study.judge(values(gain_controller=None)).status == "inconclusive"  # not measured: not a failure
    assert "TPE not run" in study.judge(values(best_val_tpe=None)).evidence


def test_config_needs_the_controller_and_random():
    with pytest.raises(ConfigError, match="controller"):
        AutomlConfig(methods=("random", "tpe"))
    with pytest.raises(ConfigError, match="methods"):
        Automl.configure(overrides={"methods": "controller,random,nope"})
