"""Kendall & Gal's variance split on a model whose dropout variance is known in closed form."""
import pytest
import torch
from torch import nn

from limitlab.errors import IncompatibleModelError
from limitlab.uncertainty.regression import aleatoric_epistemic, epistemic_ratio


class DroppedInput(nn.Module):
    """(mean, variance) = (dropout_p(x), 0.25): the mean is x / (1 - p) with probability 1 - p, else 0."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(p)

    def forward(self, x):
        return torch.stack([self.drop(x)[:, 0], torch.full((len(x),), 0.25)], dim=1)


def test_epistemic_is_the_dropout_variance_and_aleatoric_the_predicted_one():
    p, x = 0.2, torch.tensor([[0.5], [1.0], [2.0]])
    out = aleatoric_epistemic(DroppedInput(p), x, samples=20000, generator=torch.Generator().manual_seed(0))
    # E = x, Var = x^2 p / (1 - p) for a Bernoulli(1 - p) mask scaled by 1 / (1 - p).
    assert out.mean.tolist() == pytest.approx(x[:, 0].tolist(), rel=0.02)
    assert out.epistemic.tolist() == pytest.approx((x[:, 0] ** 2 * p / (1 - p)).tolist(), rel=0.05)
    assert out.aleatoric.tolist() == pytest.approx([0.25] * 3)


def test_a_model_without_a_variance_output_is_refused():
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(1, 3))
    with pytest.raises(IncompatibleModelError, match="expected 2"):
        aleatoric_epistemic(model, torch.zeros(4, 1), samples=3)


def test_epistemic_ratio_and_its_bootstrap():
    gen = torch.Generator().manual_seed(0)
    outside = torch.tensor([False, False, True, True])
    means = torch.randn(400, 4, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 1.0, 2.0, 2.0])
    ratio, boot = epistemic_ratio(means, outside, num=200, generator=gen)
    assert ratio == pytest.approx(4.0, rel=0.15)  # variance 4 outside, 1 inside
    assert boot.shape == (200,) and float(boot.mean()) == pytest.approx(ratio, rel=0.05)
    # Fewer passes, more Monte Carlo noise.
    _, few = epistemic_ratio(means[:20], outside, num=200, generator=gen)
    assert float(few.std()) > 2 * float(boot.std())
