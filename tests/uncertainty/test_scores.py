"""Entropy, mutual information and max softmax on hand-made probability tensors."""
import math

import pytest
import torch
from torch import nn

from limitlab.errors import ConfigError, DataError, IncompatibleModelError
from limitlab.uncertainty import ensemble, expected_entropy, max_softmax, mutual_information, predictive_entropy

LN2 = math.log(2)


def test_disagreeing_certain_samples_are_all_epistemic():
    probs = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])  # 2 samples, 1 input, 2 classes
    assert float(predictive_entropy(probs)) == pytest.approx(LN2)
    assert float(expected_entropy(probs)) == pytest.approx(0.0)
    assert float(mutual_information(probs)) == pytest.approx(LN2)
    assert float(max_softmax(probs)) == pytest.approx(0.5)


def test_agreeing_uncertain_samples_are_all_aleatoric():
    probs = torch.full((3, 1, 2), 0.5)
    assert float(predictive_entropy(probs)) == pytest.approx(LN2)
    assert float(expected_entropy(probs)) == pytest.approx(LN2)
    assert float(mutual_information(probs)) == pytest.approx(0.0, abs=1e-7)


def test_three_class_hand_worked_values():
    probs = torch.tensor([[[0.7, 0.2, 0.1]], [[0.1, 0.2, 0.7]]])
    h_mean = -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2))  # mean = (0.4, 0.2, 0.4)
    h_each = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
    assert float(predictive_entropy(probs)) == pytest.approx(h_mean)  # 1.0549
    assert float(expected_entropy(probs)) == pytest.approx(h_each)  # 0.8018
    assert float(mutual_information(probs)) == pytest.approx(h_mean - h_each)
    assert float(predictive_entropy(probs[0])) == pytest.approx(h_each)  # (N, C) input
    assert float(max_softmax(probs)) == pytest.approx(0.4)


def test_bad_probabilities_are_rejected():
    with pytest.raises(DataError, match="softmax"):
        predictive_entropy(torch.tensor([[2.0, -1.0]]))
    with pytest.raises(DataError, match="samples, N, C"):
        mutual_information(torch.tensor([[0.5, 0.5]]))


def test_ensemble_stacks_member_softmax_and_restores_modes():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    a.train()
    x = torch.randn(4, 3)
    probs = ensemble([a, b], x)
    assert probs.shape == (2, 4, 2)
    torch.testing.assert_close(probs[1], torch.softmax(b(x), dim=1))
    assert a.training
    with pytest.raises(ConfigError):
        ensemble([], x)
    with pytest.raises(IncompatibleModelError, match="member 1"):
        ensemble([a, nn.Linear(3, 5)], x)
