"""The success rate under fresh transformations, on a model whose decision rule is known."""
import pytest
import torch
from torch import nn

from limitlab.attacks.transformed import rate_under_transform
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import ConfigError


class Threshold(nn.Module):
    """Predicts class 3 for images whose mean is above 0.5, else class 0."""

    def forward(self, x):
        high = (x.flatten(1).mean(1) > 0.5).float()
        return torch.stack([1 - high, *([torch.zeros_like(high)] * 2), high], dim=1) * 10


def test_rate_counts_transformed_predictions():
    x = torch.cat([torch.full((3, 1, 8, 8), 0.52), torch.full((1, 1, 8, 8), 0.9)])
    label = torch.full((4,), 3)
    assert rate_under_transform(Threshold(), x, label, transform=TransformDistribution(), draws=5).tolist() == [1.0] * 4
    # Brightness ~ U(-0.1, 0.1) takes a 0.52 image below 0.5 with probability 0.4; the 0.9 one never.
    rate = rate_under_transform(Threshold(), x, label, transform=TransformDistribution(max_brightness=0.1), draws=400,
                                generator=torch.Generator().manual_seed(0))
    assert rate.tolist() == pytest.approx([0.6, 0.6, 0.6, 1.0], abs=0.06)


def test_model_mode_is_restored_and_draws_checked():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 10)).train()
    rate_under_transform(model, torch.rand(2, 1, 8, 8), torch.zeros(2, dtype=torch.long),
                         transform=TransformDistribution(), draws=1)
    assert model.training
    with pytest.raises(ConfigError, match="draws=0"):
        rate_under_transform(model, torch.rand(2, 1, 8, 8), torch.zeros(2, dtype=torch.long),
                             transform=TransformDistribution(), draws=0)
