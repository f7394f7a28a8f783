"""The depth study's pieces: path and parameter counts by hand, the gradient ratios, the verdict rule."""
import math

import pytest
import torch

from limitlab.context import Context
from limitlab.data import digits
from limitlab.errors import ConfigError
from limitlab.gradients.bound import gradient_bound
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


def test_the_guard_leaves_out_gradients_whose_float64_norm_underflows():
    # An unscaled ReLU residual stack explodes: logits so large that the softmax saturates and ||grad_y J||, a sum
    # of squares of subnormal numbers, reads 0 while grad_x J (scaled up by the huge weights) does not: the raw
    # bound check then "fails" though the gradients are right. This is the seed the issue saw failing.
    data = digits()
    x, y = data.train.x[:128].double(), data.train.y[:128]
    model = make("relu", "he", "residual-unscaled", 32, 64, ctx=Context(seed=0)).double()
    raw = gradient_bound(model, x, y)
    assert float(raw.ratio.max()) > 1e100 and int((raw.output == 0).sum()) > 0
    flow = gradient_flow(model, x, y)
    assert flow.unchecked >= int((raw.output == 0).sum()) and flow.bound_ratio <= 1 + 1e-9


def test_glorot_standard_initialization():
    model = make("sigmoid", "standard", "plain", 4, 256)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    model.requires_grad_(False)
    for layer in layers:  # U[-1/sqrt(n), 1/sqrt(n)]: variance 1 / (3 n), zero biases
        n = layer.in_features
        assert float(layer.weight.abs().max()) <= 1 / math.sqrt(n) and float(layer.bias.abs().max()) == 0
    assert float(layers[1].weight.std()) == pytest.approx(1 / math.sqrt(3 * 256), rel=0.02)


def metrics(**changes):
    m = {"bound_violations": 0, "num_configs": 10, "bound_max_ratio": 0.9, "bound_unchecked": 3,
         "grad_ratio_sigmoid_small_plain": 1e-50, "grad_ratio_sigmoid_standard_plain": 1e-40,
         "grad_ratio_relu_he_plain": 1.0, "grad_ratio_relu_he_residual": 2.0,
         "test_acc_relu_he_residual": Metric(0.95, noise=0.023),
         "test_acc_sigmoid_small_plain": Metric(0.1, noise=0.03)}
    return MetricValues({k: v if isinstance(v, Metric) else Metric(v) for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Depth()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(bound_violations=1)).status == "fails"
    assert study.judge(metrics(grad_ratio_sigmoid_small_plain=0.1)).status == "fails"
    assert study.judge(metrics(grad_ratio_relu_he_residual=20.0)).status == "inconclusive"
    assert study.judge(metrics(grad_ratio_sigmoid_standard_plain=1e-3)).status == "fails"  # Glorot init: no vanishing
    assert study.judge(metrics(test_acc_relu_he_residual=Metric(0.91, noise=0.03))).status == "inconclusive"
    missing = metrics(test_acc_relu_he_residual=None, grad_ratio_sigmoid_small_plain=None)
    assert study.judge(missing).status == "inconclusive"
    assert study.judge(MetricValues({})).status == "inconclusive"


def test_dropping_an_arm_leaves_the_others_unchanged():
    # Every configuration draws its initial weights from its own stream: running without the sigmoid and tanh arms
    # (and without training) must give the ReLU arms exactly the same gradients.
    overrides = {"depths": "2,8", "width": "8", "num_probe": "8", "train_configs": "relu/he/plain", "epochs": "1"}
    full = Depth.configure(preset="tiny", overrides=overrides).run(Context(seed=3)).metrics
    relu = Depth.configure(preset="tiny", overrides={**overrides, "activations": "relu"}).run(Context(seed=3))
    relu = relu.metrics
    shared = [k for k in relu if k.startswith(("grad_ratio_relu", "weight_grad_ratio_relu", "test_acc"))]
    assert len(shared) > 5 and all(relu[k].value == full[k].value for k in shared)
