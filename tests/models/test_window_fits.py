"""Window fits: the LSTM's training windows and rollout by hand, grouped MLPs, fitted functions."""
import numpy as np
import torch

from limitlab.models.grouped_mlp import GroupedMLP
from limitlab.models.lstm import SequenceLSTM
from limitlab.models.window_fits import rollout, velocity_windows


def test_velocity_windows_pair_states_with_the_velocity_to_the_next():
    q = np.arange(12, dtype=float).reshape(6, 2) ** 2  # q[t] = ((2t)^2, (2t+1)^2)
    data = velocity_windows(q, 0.5, 3)
    assert data.x.shape == (3, 3, 2)  # windows start at 0, 1, 2 (the last needs q[t + 3])
    np.testing.assert_allclose(data.x[1].numpy(), q[1:4])
    np.testing.assert_allclose(data.y[1].numpy(), (q[2:5] - q[1:4]) / 0.5)


def test_rollout_integrates_the_predicted_velocity():
    # All weights zero and head bias c: the predicted velocity is c at every step, so q grows by dt * c per step.
    model = SequenceLSTM(in_features=2, out_features=2, hidden=4).train()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.head.bias.copy_(torch.tensor([1.0, -2.0]))
    history = np.array([[0.0, 0.0], [0.5, 1.0]])
    out = rollout(model, history, 3, 0.1)
    expected = np.array([0.5, 1.0]) + 0.1 * np.arange(1, 4)[:, None] * np.array([1.0, -2.0])
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert model.training  # the mode it had


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
