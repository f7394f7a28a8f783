"""The automl study: the trainer's memo, metrics consistent with the traces, and the verdict rule."""
from __future__ import annotations

import pytest

from limitlab.context import Context
from limitlab.nas import canonical
from limitlab.studies.automl import Automl, AutomlConfig, Trainer
from limitlab.errors import ConfigError


def test_trainer_trains_an_architecture_once_and_scores_it_the_same():
    trainer = Trainer(AutomlConfig(num_train=60, epochs=1), Context(seed=0, threads=1))
    a, b = (0, 0, 0, 0, 0, 1), (0, 0, 0, 1, 0, 0)  # the same 1-layer MLP: kernel and skip do not apply
    assert canonical(a) == canonical(b)
    ra = trainer(a)
    assert trainer(b) == ra and len(trainer.children) == 1
    assert 0 <= ra <= 1 and trainer.children[canonical(a)].steps == 2  # 60 examples, batches of 50


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
    assert result.verdict == study.judge(m).status


def test_verdict_rule():
    study = Automl()
    m = {"best_val_controller": 0.90, "best_val_random": 0.90, "best_val_tpe": 0.9, "hand_val": 0.9,
         "children_per_method": 24, "controller_reward_rise": 0.0, "children_trained": 30, "training_steps": 100,
         "space_size": 135, "mean_reward_controller": 0.8, "mean_reward_random": 0.7}
    assert study.judge(m).status == "fails"  # a tie with random search is not a win
    m["best_val_controller"] = 0.91
    assert study.judge(m).status == "holds"
    m["hand_val"] = 0.95
    assert study.judge(m).status == "inconclusive"


def test_config_needs_the_controller_and_random():
    with pytest.raises(ConfigError, match="controller"):
        AutomlConfig(methods=("random", "tpe"))
