"""The sorting study's pieces: ranks by two routes, rank decoding by hand, the transformer's symmetry, the rule."""
import numpy as np
import pytest
import torch
from torch import nn

from limitlab.errors import ConfigError
from limitlab.models.ranker import RankTransformer
from limitlab.result import Metric, MetricValues
from limitlab.studies.sorting import Sorting, algorithm_ranks, conditions, predict_ranks, ranks, score


def test_ranks_by_hand_and_by_the_algorithm():
    x = np.array([[0.3, 0.1, 0.2], [5.0, -1.0, 2.0]])
    np.testing.assert_array_equal(ranks(x), [[2, 0, 1], [2, 0, 1]])
    y = np.random.default_rng(0).random((200, 9))
    np.testing.assert_array_equal(ranks(y), algorithm_ranks(y))


def test_score_by_hand():
    pred = np.array([[0, 1, 2], [0, 2, 1]])
    truth = np.array([[0, 1, 2], [0, 1, 2]])
    # 3 + 1 of 6 elements; 1 of 2 rows; per-row accuracies 1 and 1/3: sample std sqrt(2) / 3, over sqrt(2) rows,
    # one standard error of 1/3; the floor is two
    assert score(pred, truth) == pytest.approx((4 / 6, 1 / 2, 2 / 3))


class Identity(nn.Module):
    def forward(self, x):
        return x


def test_predictions_are_read_as_nearest_integer_ranks():
    # The identity "model" says fractional rank = value: on n = 3, 0.26 -> round(0.52) = 1, 0.9 -> 2, clipped.
    x = np.array([[0.26, 0.9, 0.0], [1.7, -0.4, 0.2]])
    np.testing.assert_array_equal(predict_ranks(Identity(), x), [[1, 2, 0], [2, 0, 0]])


def test_rank_transformer_is_permutation_equivariant_and_reads_any_length():
    torch.manual_seed(0)
    model = RankTransformer(d_model=8, num_heads=4, num_layers=1, dim_ff=16).eval()
    x = torch.rand(3, 5)
    perm = torch.tensor([4, 2, 0, 1, 3])
    with torch.no_grad():
        torch.testing.assert_close(model(x[:, perm]), model(x)[:, perm])
        assert model(torch.rand(2, 11)).shape == (2, 11)


def test_conditions_shift_and_scale_the_values():
    cfg = Sorting.configure(preset="tiny").config
    tests = conditions(cfg, np.random.default_rng(0))
    shifted, scaled, longer = (tests[k] for k in list(tests)[1:])
    assert shifted.min() >= cfg.shift and shifted.max() <= cfg.shift + 1
    assert scaled.max() > 1 and scaled.max() <= cfg.scale
    assert longer.shape == (cfg.num_test, cfg.seq_len * cfg.long_factor)


def metrics(**changes):
    m = {}
    for n, (train, worst) in {"mlp": (0.9, 0.3), "transformer": (0.95, 0.4)}.items():
        m.update({f"acc_{n}_train": train, f"acc_{n}_shifted": worst, f"acc_{n}_scaled": 0.6, f"acc_{n}_length": 0.5})
    m["acc_mlp_length"] = None
    m.update({f"exact_algorithm_{k}": 1.0 for k in ("train", "shifted", "scaled", "length")})
    m.update({"epochs_mlp": 40, "epochs_transformer": 12})
    m.update(changes)
    return MetricValues({k: Metric(v, noise=0.02 if k.startswith("acc") else None) for k, v in m.items()})


def test_verdict_rule():
    study = Sorting()
    assert study.judge(metrics()).status == "holds"
    # the transformer keeps its accuracy everywhere: it generalized as an algorithm would
    assert study.judge(metrics(acc_transformer_shifted=0.9, acc_transformer_scaled=0.9,
                               acc_transformer_length=0.9)).status == "fails"
    assert study.judge(metrics(acc_mlp_train=0.5)).status == "inconclusive"
    assert study.judge(metrics(exact_algorithm_scaled=0.99)).status == "inconclusive"
    # a model that did not learn the task: its flat accuracy elsewhere is no evidence either way
    assert study.judge(metrics(acc_mlp_train=0.5, acc_mlp_shifted=0.5, acc_mlp_scaled=0.5)).status == "inconclusive"
    assert study.judge(metrics(acc_transformer_train=None)).status == "inconclusive"  # not measured
    assert study.judge(metrics(acc_mlp_train=0.81)).status == "inconclusive"  # 0.01 above the bar: inside the noise
    # the transformer 0.19 below its training accuracy everywhere: less than 0.2, but within the noise: not shown
    same = {"acc_transformer_shifted": 0.76, "acc_transformer_scaled": 0.76, "acc_transformer_length": 0.76}
    assert study.judge(metrics(**same)).status == "inconclusive"
    assert study.judge(metrics(**{k: 0.85 for k in same})).status == "fails"  # 0.1 below: beyond the noise


def test_config_checks():
    with pytest.raises(ConfigError, match="scale"):
        Sorting.configure(overrides={"scale": 1.0})
    with pytest.raises(ConfigError, match="seq_len"):
        Sorting.configure(overrides={"seq_len": 1})
    with pytest.raises(ConfigError, match="mlp_hidden"):
        Sorting.configure(overrides={"mlp_hidden": "0"})
