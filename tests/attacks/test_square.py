"""Square attack: stays in the eps-ball and the bounds, reaches the closed-form optimum on a linear model."""
import pytest
import torch
from torch import nn

from limitlab.attacks.square import margin, p_selection, square
from limitlab.errors import ConfigError


def binary_linear(w, b):
    model = nn.Linear(len(w), 2)
    with torch.no_grad():
        model.weight.copy_(torch.stack([torch.zeros_like(w), w]))
        model.bias.copy_(torch.tensor([0.0, b]))
    return model


@pytest.fixture
def linear_case():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(12, generator=gen)
    x = 0.3 + 0.4 * torch.rand(300, 12, generator=gen)  # +-0.25 stays inside [0, 1]
    b = -float((x @ w).median())
    model = binary_linear(w, b)
    y = (x @ w + b > 0).long()
    return model, x, y, w, b


def test_square_reaches_the_optimal_vertex_of_a_linear_model(linear_case):
    model, x, y, w, b = linear_case
    eps = 0.05
    adv = square(model, x, y, eps=eps, queries=400, generator=torch.Generator().manual_seed(0))
    assert float((adv - x).abs().max()) <= eps + 1e-6 and float(adv.min()) >= 0 and float(adv.max()) <= 1
    margin_now = torch.where(y == 1, x @ w + b, -(x @ w + b))
    optimal = int((margin_now - eps * w.abs().sum() > 0).sum())  # the corner -sign(w) eps is the worst case
    with torch.no_grad():
        kept = int((model(adv).argmax(1) == y).sum())
    assert kept == optimal  # a linear margin is separable per feature, so greedy windows reach the corner


def test_square_is_reproducible_and_only_ever_lowers_the_margin(linear_case):
    model, x, y, _, _ = linear_case
    first = square(model, x, y, eps=0.02, queries=50, generator=torch.Generator().manual_seed(3))
    again = square(model, x, y, eps=0.02, queries=50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    gen = torch.Generator().manual_seed(3)  # the same first draw: the vertical stripes it starts from
    stripes = (x.view(300, 1, 1, 12) + 0.02 * (torch.randint(0, 2, (300, 1, 1, 12), generator=gen) * 2 - 1)).view_as(x)
    with torch.no_grad():
        assert bool((margin(model, first, y) <= margin(model, stripes.clamp(0, 1), y) + 1e-6).all())


def test_images_use_square_windows_and_model_modes_are_restored():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)).train()
    x = torch.rand(8, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.zeros(8, dtype=torch.long)
    adv = square(model, x, y, eps=0.1, queries=20, generator=torch.Generator().manual_seed(0))
    assert adv.shape == x.shape and float((adv - x).abs().max()) <= 0.1 + 1e-6
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_schedule_halves_p_and_bad_options_are_one_line():
    assert p_selection(0, 10000, 0.8) == 0.8 and p_selection(11, 10000, 0.8) == 0.4
    assert p_selection(50, 100, 0.8) == 0.8 / 128  # rescaled to 100 queries: query 50 is the 5000th of 10,000
    with pytest.raises(ConfigError, match="queries"):
        square(nn.Linear(2, 2), torch.rand(2, 2), torch.zeros(2, dtype=torch.long), eps=0.1, queries=0)
