"""The data-hunger study: balanced subsets, the crossover, the tiny run's numbers, the verdict rule."""
import numpy as np
import pytest
import torch

from limitlab.context import Context
from limitlab.data.subsets import balanced_order
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.data_hunger import DataHunger, DataHungerConfig, crossover


def test_balanced_order_prefixes_are_balanced_permutations():
    y = np.repeat(np.arange(10), [30, 25, 40, 33, 28, 31, 29, 35, 27, 26])
    order = balanced_order(y, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(y)))
    for n in (10, 20, 50, 250):
        assert np.bincount(y[order[:n]], minlength=10).tolist() == [n // 10] * 10
    again = balanced_order(y, np.random.default_rng(0))
    other = balanced_order(y, np.random.default_rng(1))
    assert np.array_equal(order, again) and not np.array_equal(order, other)


def test_crossover_is_the_start_of_the_final_lead():
    sizes = (10, 30, 100, 300)
    assert crossover(sizes, np.array([0.5, 0.7, 0.9, 0.95]), np.array([0.6, 0.8, 0.85, 0.9])) == 100
    # Ahead at first, behind in the middle: the lead that counts starts later.
    assert crossover(sizes, np.array([0.7, 0.7, 0.9, 0.95]), np.array([0.6, 0.8, 0.85, 0.9])) == 100
    assert crossover(sizes, np.array([0.7, 0.9, 0.9, 0.95]), np.array([0.6, 0.8, 0.85, 0.9])) == 10
    assert crossover(sizes, np.array([0.5, 0.7, 0.8, 0.85]), np.array([0.6, 0.8, 0.85, 0.9])) is None
    assert crossover(sizes, np.array([0.5, 0.7, 0.9, 0.85]), np.array([0.6, 0.8, 0.85, 0.9])) is None


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    study = DataHunger.configure(preset="tiny")
    return study, study.run(Context(seed=0, threads=1))


def test_tiny_run_numbers_hang_together(tiny):
    study, result = tiny
    m = result.metrics
    sizes = study.config.sizes
    for method in ("cnn", "hog", "pixels"):
        for n in sizes:
            metric = m[f"acc_{method}_n{n}"]
            assert 0 <= metric.value <= 1 and len(metric.values) == study.config.num_seeds
            assert metric.value == pytest.approx(np.mean(metric.values))
    # With 100 balanced digits, logistic regression on HOG features is far above chance.
    assert m[f"acc_hog_n{sizes[-1]}"].value > 0.8
    assert m["small_n_gap"].value == pytest.approx(m[f"acc_hog_n{sizes[0]}"].value - m[f"acc_cnn_n{sizes[0]}"].value)
    handling = np.mean([m[f"missing_{k}/mlp-mean+indicators"].value - m[f"missing_{k}/mlp-zero-fill"].value
                        for k in ("mcar", "mnar")])
    assert m["handling_gap"].value == pytest.approx(handling)
    curve = {f.id: f for f in result.figures}["learning-curves"].panels[0]["series"][1]
    assert curve["y"] == pytest.approx([m[f"acc_hog_n{n}"].value for n in sizes])
    assert all(lo <= y <= hi for lo, y, hi in zip(curve["lo"], curve["y"], curve["hi"]))


def test_config_is_checked():
    with pytest.raises(ConfigError, match="num_seeds=1; expected >= 2"):
        DataHungerConfig(num_seeds=1)
    with pytest.raises(ConfigError, match="sizes"):
        DataHungerConfig(sizes=(10, 2000))
    with pytest.raises(ConfigError, match="missing_set"):
        DataHungerConfig(missing_set="iris")


def test_verdict_rule():
    study = DataHunger(DataHungerConfig(sizes=(10, 100)))
    base = {"acc_hog_n10": 0.6, "acc_cnn_n10": 0.5, "acc_hog_n100": 0.9, "acc_cnn_n100": 0.95,
            "crossover_n": 100, "small_n_gap": 0.1, "handling_gap": 0.05, "model_gap": 0.01}
    judge = lambda m: study.judge(MetricValues({k: Metric(v) for k, v in m.items()}))  # noqa: E731
    assert judge(base).status == "holds"
    assert judge({**base, "small_n_gap": 0.04}).status == "fails"
    assert judge({**base, "crossover_n": None}).status == "inconclusive"
    assert judge({**base, "crossover_n": 10}).status == "inconclusive"  # the CNN was never behind
    assert judge({**base, "handling_gap": 0.01}).status == "inconclusive"
    assert judge({**base, "model_gap": 0.06}).status == "inconclusive"
    assert judge({**base, "small_n_gap": None}).status == "inconclusive"  # not measured: no evidence either way
    assert study.judge(MetricValues({})).status == "inconclusive"
