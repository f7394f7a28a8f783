"""The extrapolation study's pieces: straightness by hand, the LSTM rollout, grouped MLPs, the verdict rule."""
import numpy as np
import pytest
import torch

from limitlab.errors import ConfigError
from limitlab.models.grouped_mlp import GroupedMLP
from limitlab.models.lstm import SequenceLSTM
from limitlab.studies.extrapolation import Extrapolation, rollout, straightness


def test_straightness_by_hand():
    x = np.array([-1.0, 0.0, 1.0])
    assert straightness(x, 3 * x + 2) == pytest.approx((1.0, 3.0))
    # y = x^2 on {-1, 0, 1}: best line is flat at 2/3; residuals (1/3, -2/3, 1/3) equal the deviations -> R^2 = 0
    assert straightness(x, x ** 2) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert straightness(x, np.full(3, 5.0)) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_rollout_integrates_the_predicted_velocity():
    # All weights zero and head bias c: the predicted velocity is c at every step, so q grows by dt * c per step.
    model = SequenceLSTM(in_features=2, out_features=2, hidden=4)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.head.bias.copy_(torch.tensor([1.0, -2.0]))
    history = np.array([[0.0, 0.0], [0.5, 1.0]])
    out = rollout(model, history, 3, 0.1)
    expected = np.array([0.5, 1.0]) + 0.1 * np.arange(1, 4)[:, None] * np.array([1.0, -2.0])
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_grouped_mlp_groups_are_independent_mlps():
    torch.manual_seed(0)
    model = GroupedMLP(num_groups=3, hidden=5, depth=2)
    x = torch.linspace(-2, 2, 7)[:, None]
    out = model(x)
    # group 1 by hand, as an ordinary MLP
    w, b = [p[1] for p in model.weights], [p[1] for p in model.biases]
    h = torch.relu(x @ w[0] + b[0])
    h = torch.relu(h @ w[1] + b[1])
    torch.testing.assert_close(out[:, 1], (h @ w[2] + b[2])[:, 0])
    with torch.no_grad():
        model.weights[0][2].add_(1.0)  # changing group 2 leaves the others alone
    torch.testing.assert_close(model(x)[:, :2], out[:, :2])


def test_relu_fit_is_exactly_linear_far_outside():
    # Beyond every kink of a one-hidden-layer ReLU net the output is affine: equal second differences are 0.
    torch.manual_seed(1)
    model = GroupedMLP(num_groups=1, hidden=8, depth=1)
    w, b = model.weights[0][0, 0].detach(), model.biases[0][0, 0].detach()
    far = float((-b / w).abs().max()) + 1.0
    x = torch.linspace(far, far + 10, 11)[:, None]
    with torch.no_grad():
        y = model(x)[:, 0].double()
    assert torch.allclose(y[2:] - 2 * y[1:-1] + y[:-2], torch.zeros(9, dtype=torch.float64), atol=1e-4)


def metrics(**changes):
    m = {"rel_in_lstm": 0.1, "rel_out_lstm": 1.3, "rel_in_mlp": 0.01, "rel_out_mlp": 9.0, "rel_in_physics": 0.0,
         "rel_out_physics": 0.0, "rel_in_reduced": 0.3, "rel_out_reduced": 1.0, "param_error": 1e-9,
         "fn_straight_sin": 0.999, "fn_straight_square": 0.999, "fn_straight_cubic": 0.999, "fn_straight_abs": 1.0}
    return {**m, **changes}


def test_verdict_rule():
    study = Extrapolation()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(rel_out_lstm=0.3)).status == "fails"  # a network extrapolated
    assert study.judge(metrics(rel_out_physics=0.5)).status == "fails"  # the right physics did not
    assert study.judge(metrics(param_error=0.2)).status == "fails"
    assert study.judge(metrics(rel_in_lstm=0.5)).status == "inconclusive"  # did not even fit the window
    assert study.judge(metrics(rel_out_reduced=2.0)).status == "inconclusive"
    assert study.judge(metrics(fn_straight_sin=0.9)).status == "inconclusive"


def test_config_checks():
    with pytest.raises(ConfigError, match="num_modeled"):
        Extrapolation.configure(overrides={"num_modeled": 3})
    with pytest.raises(ConfigError, match="functions"):
        Extrapolation.configure(overrides={"functions": "sin,nope"})
