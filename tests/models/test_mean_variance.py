"""The mean-variance net and its Gaussian NLL (Kendall & Gal's aleatoric loss) in closed form."""
import math

import pytest
import torch

from limitlab.models.mean_variance import MeanVarianceNet, gaussian_nll


def test_variance_is_positive():
    torch.manual_seed(0)
    out = MeanVarianceNet(hidden=8)(torch.linspace(-10, 10, 50).view(-1, 1))
    assert out.shape == (50, 2) and float(out[:, 1].min().detach()) > 0


def test_gaussian_nll_matches_the_closed_form():
    out = torch.tensor([[0.5, 0.25], [-1.0, 4.0]])  # (mean, variance)
    y = torch.tensor([1.0, 1.0])
    expected = [0.5 * (math.log(2 * math.pi * v) + (t - mu) ** 2 / v) for (mu, v), t in zip(out.tolist(), y.tolist())]
    torch.testing.assert_close(gaussian_nll(out, y, reduction="none"), torch.tensor(expected))
    assert float(gaussian_nll(out, y)) == pytest.approx(sum(expected) / 2)
