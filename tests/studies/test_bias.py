"""The bias study: the remedies' weights and resampling, group B's style, the tiny run, the verdict rule."""
import numpy as np
import pytest
import torch

from limitlab.context import Context
from limitlab.data.groups import group_weights, oversample_index, second_style
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.bias import Bias, BiasConfig


def test_group_weights_give_both_groups_equal_total_weight():
    in_b = np.array([True] * 3 + [False] * 97)
    w = group_weights(in_b)
    assert float(w[in_b].sum()) == pytest.approx(50.0) and float(w[~in_b].sum()) == pytest.approx(50.0)
    assert float(w[0]) == pytest.approx(100 / 6) and float(w[-1]) == pytest.approx(100 / 194)


def test_oversampling_equalizes_the_counts():
    in_b = np.array([True] * 5 + [False] * 45)
    index = oversample_index(in_b, np.random.default_rng(0))
    assert int(in_b[index].sum()) == 45 and int((~in_b[index]).sum()) == 45
    assert set(range(50)) <= set(index.tolist())  # nobody dropped


def test_second_styles():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 0, 0] = 1.0  # top-left pixel
    assert torch.equal(second_style(x, "invert"), 1 - x)
    turned = second_style(x, "rotate-90")  # counter-clockwise as displayed: top-left goes to bottom-left
    assert float(turned[0, 0, 7, 0]) == pytest.approx(1.0, abs=1e-5)
    assert float(turned.sum()) == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    study = Bias.configure(preset="tiny")
    return study, study.run(Context(seed=0, threads=1))


def test_tiny_run_numbers_hang_together(tiny):
    study, result = tiny
    m = {k: v.value for k, v in result.metrics.items()}
    for arm in ("plain", "reweight", "oversample"):
        for mix in study.config.mixes:
            a, b = m[f"{arm}_acc_a_{mix:g}"], m[f"{arm}_acc_b_{mix:g}"]
            assert m[f"{arm}_gap_{mix:g}"] == pytest.approx(a - b)
            assert m[f"{arm}_overall_{mix:g}"] == pytest.approx(mix * a + (1 - mix) * b)
    # At 50/50 the remedies are the plain model (reused, not retrained).
    assert m["reweight_gap_0.5"] == m["plain_gap_0.5"] == m["oversample_gap_0.5"]
    # 5% rotated digits in training: group B is clearly worse than A.
    assert m["plain_gap_0.95"] > 0.1


def test_config_is_checked():
    with pytest.raises(ConfigError, match="mixes"):
        BiasConfig(mixes=(0.3, 0.9))
    with pytest.raises(ConfigError, match="num_seeds"):
        BiasConfig(num_seeds=1)


def test_verdict_rule():
    study = Bias(BiasConfig(mixes=(0.5, 0.95)))
    base = {"plain_gap_0.5": 0.0, "plain_gap_0.95": 0.3, "reweight_gap_0.95": 0.15, "oversample_gap_0.95": 0.1,
            "plain_overall_0.5": 0.9, "plain_overall_0.95": 0.91, "plain_acc_a_0.95": 0.95, "plain_acc_b_0.95": 0.65}
    judge = lambda values: study.judge(MetricValues({k: Metric(v) for k, v in values.items()}))  # noqa: E731
    assert judge(base).status == "holds"
    assert judge({**base, "plain_gap_0.95": 0.04}).status == "fails"
    assert judge({**base, "plain_overall_0.95": 0.87}).status == "inconclusive"
    assert judge({**base, "reweight_gap_0.95": 0.24}).status == "inconclusive"  # > 0.75 x 0.3
    assert judge({**base, "reweight_gap_0.95": 0.01}).status == "inconclusive"  # closed
    assert judge({**base, "plain_gap_0.5": None}).status == "inconclusive"
    assert study.judge(MetricValues({})).status == "inconclusive"
