"""The targeted success matrix on a model whose answer the 'attack' sets by hand."""
import math

import pytest
import torch
from torch import nn

from limitlab.attacks.targeted import mean_off_diagonal, targeted_success, targeted_sweep
from limitlab.errors import DataError


class ReadsPixel(nn.Module):
    """Predicts the class written in pixel (0, 0): logits are one-hot at round(10 * x[0, 0, 0])."""

    def forward(self, x):
        return nn.functional.one_hot((x[:, 0, 0, 0] * 10).round().long().clamp(0, 9), 10).float()


def write_target_if_even(model, x, target):
    """An 'attack' that succeeds exactly when the target class is even."""
    out = x.clone()
    out[:, 0, 0, 0] = torch.where(target % 2 == 0, target.float() / 10, out[:, 0, 0, 0])
    return out


def test_matrix_counts_each_true_class_and_target():
    y = torch.tensor([1, 1, 3, 8])
    x = torch.zeros(4, 1, 8, 8)
    x[:, 0, 0, 0] = y.float() / 10  # the model is right on every clean input
    matrix = targeted_success(ReadsPixel(), x, y, attack=write_target_if_even, num_classes=10)
    for true in range(10):
        for target in range(10):
            value = float(matrix[true, target])
            if true not in (1, 3, 8):
                assert math.isnan(value)  # no input of that class
            elif target % 2 == 0 or target == true:  # even targets succeed; odd ones leave the input as it is
                assert value == 1.0
            else:
                assert value == 0.0
    # Off the diagonal: classes 1 and 3 reach the 5 even targets of 9; class 8 reaches 4 of 9 (8 itself is diagonal).
    assert mean_off_diagonal(matrix) == pytest.approx((5 + 5 + 4) / 27)


def test_bad_labels_raise():
    with pytest.raises(DataError, match="labels in \\[0, 10\\)"):
        targeted_success(ReadsPixel(), torch.zeros(2, 1, 8, 8), torch.tensor([0, 12]), attack=write_target_if_even,
                         num_classes=10)


def test_sweep_pools_each_target_over_the_inputs_of_other_classes():
    y = torch.tensor([1, 1, 1, 3, 8])
    x = torch.zeros(5, 1, 8, 8)
    x[:, 0, 0, 0] = y.float() / 10

    def attack(model, xs, target, eps):  # even targets succeed once eps >= 0.2; nothing succeeds below
        return write_target_if_even(model, xs, target) if eps >= 0.2 else xs

    sweep = targeted_sweep(ReadsPixel(), x, y, attack=attack, eps_grid=[0.1, 0.2], num_classes=10)
    assert sweep.counts == [5, 2, 5, 4, 5, 5, 5, 5, 4, 5]  # inputs not of class t
    assert sweep.per_target[0] == [0.0] * 10 and sweep.mean(0) == 0.0
    assert sweep.per_target[1] == [1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0]
    assert sweep.weakest(1) == 1  # the first odd target
    # The matrix mean weighs each (true, target) pair alike; the pooled rate weighs each input alike.
    assert sweep.mean(1) == pytest.approx((5 + 5 + 4) / 27)
