"""The depth study's pieces: path and parameter counts by hand, the gradient ratios, the verdict rule."""
import math

import pytest
import torch

from limitlab.data import digits
from limitlab.errors import ConfigError
from limitlab.gradients.flow import gradient_flow
from limitlab.models.counting import closed_form_errors, count_paths
from limitlab.models.deep_mlp import deep_mlp as make
from limitlab.result import Metric, MetricValues
from limitlab.studies.depth import Depth, DepthConfig


def test_path_counts_by_hand():
    # width 2, depth 3: 64 inputs -> 2 -> 2 -> 10. Plain: 64 * 2 * 2 * 10 paths; a residual block adds the skip
    plain, residual = make("relu", "he", "plain", 3, 2), make("relu", "he", "residual", 3, 2)
    ones = torch.ones(64, dtype=torch.float64)
    assert float(count_paths(plain, ones).sum()) == 64 * 2 * 2 * 10
    assert float(count_paths(residual, ones).sum()) == 64 * 2 * 3 * 10
    assert sum(p.numel() for p in plain.parameters()) == 64 * 2 + 2 + (2 * 2 + 2) + 2 * 10 + 10


def test_residual_scale_and_closed_forms():
    model = make("relu", "he", "residual", 18, 8)
    assert model[2].scale == 1 / math.sqrt(16)
    assert make("relu", "he", "residual-unscaled", 18, 8)[2].scale == 1.0
    errors = closed_form_errors(lambda res, d: make("relu", "he", "residual" if res else "plain", d, 4), (2, 5),
                                inputs=64, width=4, classes=10)
    assert errors[0] == 0 and errors[1] < 1e-12


def test_sigmoid_small_vanishes_residual_he_does_not_and_bound_holds():
    torch.manual_seed(0)
    data = digits()
    x, y = data.train.x[:16].double(), data.train.y[:16]
    sig = gradient_flow(make("sigmoid", "small", "plain", 16, 32).double(), x, y)
    res = gradient_flow(make("relu", "he", "residual", 16, 32).double(), x, y)
    boom = gradient_flow(make("relu", "he", "residual-unscaled", 32, 32).double(), x, y)
    # sigmoid, N(0, 0.01^2): each layer multiplies by about 0.25 * 0.01 * 2 sqrt(32) < 0.03, 15 times
    assert sig.ratio < 1e-15
    assert 0.1 <= res.ratio <= 10
    assert boom.ratio > 100
    assert max(g.bound_ratio for g in (sig, res, boom)) <= 1


def test_config_is_checked():
    with pytest.raises(ConfigError, match="train_configs entry 'relu/he/wide'"):
        DepthConfig(train_configs=("relu/he/wide",))
    with pytest.raises(ConfigError, match="activations=\\['swish'\\]"):
        Depth.configure(overrides={"activations": "swish"})


def metrics(**changes):
    m = {"bound_violations": 0, "num_configs": 10, "bound_max_ratio": 0.9, "grad_ratio_sigmoid_small_plain": 1e-50,
         "grad_ratio_relu_he_plain": 1.0, "grad_ratio_relu_he_residual": 2.0, "test_acc_relu_he_residual": 0.95,
         "test_acc_sigmoid_small_plain": 0.1}
    return MetricValues({k: Metric(v) for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Depth()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(bound_violations=1)).status == "fails"
    assert study.judge(metrics(grad_ratio_sigmoid_small_plain=0.1)).status == "fails"
    assert study.judge(metrics(grad_ratio_relu_he_residual=20.0)).status == "inconclusive"
    missing = metrics(test_acc_relu_he_residual=None, grad_ratio_sigmoid_small_plain=None)
    assert study.judge(missing).status == "inconclusive"
    assert study.judge(MetricValues({})).status == "inconclusive"
