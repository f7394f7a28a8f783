"""Temperature scaling: recovers a known temperature, keeps accuracy, does not raise validation NLL."""
import pytest
import torch
import torch.nn.functional as F

from limitlab.calibration import TemperatureScaler
from limitlab.errors import NotFittedError


def sample(num, true_t, seed):
    """Labels drawn from softmax(z / true_t): the calibrating temperature is true_t."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(num, 5, generator=gen, dtype=torch.float64) * 4
    y = torch.multinomial(torch.softmax(z / true_t, 1), 1, generator=gen).squeeze(1)
    return z, y


def test_recovers_the_temperature_that_generated_the_labels():
    z, y = sample(20000, 2.5, 0)
    assert TemperatureScaler().fit(z, y).temperature_ == pytest.approx(2.5, rel=0.05)


def test_accuracy_unchanged_and_validation_nll_not_raised():
    z, y = sample(2000, 0.6, 1)
    scaler = TemperatureScaler().fit(z, y)
    assert torch.equal(scaler.transform(z).argmax(1), z.argmax(1))
    assert F.cross_entropy(scaler.transform(z), y) <= F.cross_entropy(z, y) + 1e-9


def test_transform_before_fit_is_an_error():
    with pytest.raises(NotFittedError, match="fit"):
        TemperatureScaler().transform(torch.zeros(1, 2))
