"""The 1-D heteroscedastic problem: its closed form, and samples that follow it."""
import pytest
import torch

from limitlab.data.regression_1d import TRAIN_RANGE, heteroscedastic_1d, truth


def test_truth_is_the_stated_closed_form():
    x = torch.tensor([-2.0, 0.0, 2.0])
    mean, std = truth(x)
    assert mean.tolist() == pytest.approx([float(torch.sin(torch.tensor(-3.0))) - 0.6, 0.0,
                                           float(torch.sin(torch.tensor(3.0))) + 0.6], abs=1e-6)
    assert std.tolist() == pytest.approx([0.05, 0.2, 0.35])


def test_samples_lie_in_the_training_range_with_the_stated_noise():
    data = heteroscedastic_1d(20000, generator=torch.Generator().manual_seed(0))
    x = data.x[:, 0]
    assert data.x.shape == (20000, 1) and float(x.min()) >= TRAIN_RANGE[0] and float(x.max()) <= TRAIN_RANGE[1]
    mean, std = truth(x)
    z = (data.y - mean) / std
    assert float(z.mean()) == pytest.approx(0.0, abs=0.03) and float(z.std()) == pytest.approx(1.0, abs=0.03)
