"""FGSM against its closed form on a logistic model."""
import pytest
import torch

from limitlab.attacks import fgsm, gradient_step
from limitlab.errors import ConfigError, DataError
from tests.helpers import linear_model


def closed_form_grad(model, x, y):
    """d CE / dx for logits W x + b: W^T (softmax(Wx + b) - onehot(y)), worked out by hand."""
    w, b = model[1].weight, model[1].bias
    p = torch.softmax(x @ w.T + b, dim=1)
    return (p - torch.nn.functional.one_hot(y, w.shape[0]).float()) @ w


def test_fgsm_equals_closed_form_on_logistic_regression():
    model = linear_model()
    x = torch.rand(16, 4) * 0.6 + 0.2  # away from the bounds, so clipping does not act
    y = torch.randint(0, 3, (16,))
    expected = x + 0.1 * closed_form_grad(model, x, y).sign()
    assert torch.allclose(fgsm(model, x, y, eps=0.1), expected, atol=1e-6)


def test_targeted_fgsm_steps_against_the_target_gradient():
    model = linear_model()
    x = torch.rand(16, 4) * 0.6 + 0.2
    t = torch.randint(0, 3, (16,))
    expected = x - 0.05 * closed_form_grad(model, x, t).sign()
    assert torch.allclose(fgsm(model, x, t, eps=0.05, targeted=True), expected, atol=1e-6)


def test_gradient_step_is_x_plus_eta_grad_and_its_normalized_form():
    model = linear_model()
    x = torch.rand(8, 4) * 0.6 + 0.2
    y = torch.randint(0, 3, (8,))
    g = closed_form_grad(model, x, y)
    assert torch.allclose(gradient_step(model, x, y, eta=0.01), x + 0.01 * g, atol=1e-6)
    step = gradient_step(model, x, y, eta=0.05, normalize=True) - x
    assert torch.allclose(step.norm(dim=1), torch.full((8,), 0.05), atol=1e-5)


def test_fgsm_clips_to_bounds_and_restores_model_state():
    model = linear_model()
    model.train()
    x = torch.rand(32, 4)
    y = torch.randint(0, 3, (32,))
    x_adv = fgsm(model, x, y, eps=0.5)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())


def test_bad_arguments_are_one_line_errors():
    model = linear_model()
    with pytest.raises(ConfigError, match="eps=-0.1"):
        fgsm(model, torch.rand(2, 4), torch.tensor([0, 1]), eps=-0.1)
    with pytest.raises(DataError, match="outside bounds"):
        fgsm(model, torch.rand(2, 4) * 255, torch.tensor([0, 1]), eps=0.1)
    with pytest.raises(DataError, match="integer class labels"):
        fgsm(model, torch.rand(2, 4), torch.tensor([0.0, 1.0]), eps=0.1)
