"""The rules' noise floors (`limitlab.studies._rules`) against hand-worked values."""
import math

import numpy as np
import pytest
import torch

from limitlab.studies._rules import draws_noise, means_noise, values_noise


def test_draws_noise_by_hand():
    # Three draws over four digits; draw 0 trained on digit 3, draw 2 on digit 0 (held False there).
    diff = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    held = np.array([[True, True, True, False], [True, True, True, True], [False, True, True, True]])
    per_draw, floor = draws_noise(diff, held)
    assert per_draw == pytest.approx([2 / 3, 1 / 2, 1 / 3])  # each draw's mean over the digits it held out
    # Over the draws: std (n - 1) of (2/3, 1/2, 1/3) is 1/6 -> 2 x (1/6) / sqrt(3). Over the digits: each digit's
    # mean over the draws that held it, (1/2, 1/3, 2/3, 1/2), std 1/sqrt(54) -> 2 / sqrt(54) / 2 = 0.136: smaller.
    assert floor == pytest.approx(2 * (1 / 6) / math.sqrt(3))


def test_draws_noise_is_the_digits_floor_when_the_draws_agree():
    diff = np.array([[1.0, 0.0, 1.0, -1.0]] * 2)  # two identical draws: no draw-to-draw luck
    per_draw, floor = draws_noise(diff, np.ones_like(diff, dtype=bool))
    assert per_draw == pytest.approx([0.25, 0.25])
    assert floor == pytest.approx(2 * math.sqrt(2.75 / 3) / 2)  # std (n - 1) of (1, 0, 1, -1) over sqrt(4), doubled


def test_draws_noise_needs_two_draws():
    assert draws_noise(np.array([[1.0, 0.0]]), np.array([[True, True]]))[1] is None


def test_means_noise_by_hand():
    # Independent arms: variances (n - 1) 0.01 and 0 over 3 and 2 replicas -> 2 x sqrt(0.01 / 3).
    a, b = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.0, 0.0])
    assert means_noise(a, b) == pytest.approx(2 * math.sqrt(0.01 / 3))
    # Paired (the same two models measured twice): differences (0.2, 0.3), std 0.0707 -> 2 x 0.0707 / sqrt(2) = 0.1.
    assert means_noise(torch.tensor([0.3, 0.5]), torch.tensor([0.1, 0.2]), paired=True) == pytest.approx(0.1)
    assert means_noise(torch.tensor([0.3]), b) is None  # one replica: no standard error


def test_values_noise_is_two_standard_errors_by_hand():
    # 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14/3, standard error sqrt(14/3) / 2
    assert values_noise([1.0, 2.0, 3.0, 6.0]) == pytest.approx(2 * math.sqrt(14 / 3) / 2)
    assert values_noise([1.0, None, 3.0]) == pytest.approx(2 * math.sqrt(2) / math.sqrt(2))  # the measured ones
    assert values_noise([0.5]) is None and values_noise([]) is None
