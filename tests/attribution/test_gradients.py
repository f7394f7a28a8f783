"""Input gradient and gradient x input: closed forms on a linear model, finite differences, Captum."""
import pytest
import torch
from torch import nn

from limitlab.attribution import gradient_x_input, input_gradient
from limitlab.errors import ConfigError, DataError, IncompatibleModelError


def linear_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 3))


def test_linear_model_closed_form():
    model = linear_model()
    w = model[1].weight.detach()
    x = torch.rand(5, 1, 2, 3)
    pred = model(x).argmax(1)
    assert torch.allclose(input_gradient(model, x), w[pred].view(5, 1, 2, 3))
    assert torch.allclose(input_gradient(model, x, target=2), w[2].expand(5, 6).reshape(5, 1, 2, 3))
    # For a linear model gradient x input is each input's exact contribution: it sums to logit - bias.
    gxi = gradient_x_input(model, x, target=1)
    assert torch.allclose(gxi.flatten(1).sum(1), model(x)[:, 1] - model[1].bias[1], atol=1e-6)


def test_finite_differences_on_a_nonlinear_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    x = torch.rand(3, 4, dtype=torch.float64)
    grad = input_gradient(model, x, target=1)
    h = 1e-6
    eye = torch.eye(4, dtype=torch.float64) * h
    fd = torch.stack([(model(x + eye[i])[:, 1] - model(x - eye[i])[:, 1]) / (2 * h) for i in range(4)], dim=1)
    assert torch.allclose(grad, fd, atol=1e-8)


def test_model_state_is_restored():
    model = linear_model().train()
    input_gradient(model, torch.rand(2, 1, 2, 3))
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_bad_inputs():
    model = linear_model()
    with pytest.raises(DataError, match="floating-point"):
        input_gradient(model, torch.ones(2, 6, dtype=torch.long))
    with pytest.raises(ConfigError, match="target=.*expected None"):
        input_gradient(model, torch.rand(2, 6), target=torch.tensor([0.5, 1.0]))
    with pytest.raises(ConfigError, match="3 classes"):
        input_gradient(model, torch.rand(2, 6), target=3)
    with pytest.raises(IncompatibleModelError, match="shape \\(N, C\\)"):
        input_gradient(nn.Identity(), torch.rand(2, 1, 2, 3))


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
def test_matches_captum():
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(3)
    from limitlab.models import build
    model = build("cnn").eval()
    x = torch.rand(5, 1, 8, 8)
    t = torch.tensor([0, 3, 5, 7, 9])
    assert torch.allclose(input_gradient(model, x, target=t),
                          captum_attr.Saliency(model).attribute(x, target=t, abs=False), atol=1e-6)
    assert torch.allclose(gradient_x_input(model, x, target=t),
                          captum_attr.InputXGradient(model).attribute(x, target=t), atol=1e-6)
