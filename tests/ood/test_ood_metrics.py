"""AUROC against a rank-based count; FPR at TPR, AUPR and the rejection curve on hand-worked cases."""
import numpy as np
import pytest
import torch

from limitlab.errors import ConfigError, DataError
from limitlab.ood import aupr, auroc, fpr_at_tpr, rejection_curve


def pairwise_auroc(s_in: np.ndarray, s_out: np.ndarray) -> float:
    """Mann-Whitney: the fraction of (in, out) pairs ranked correctly, ties counted one half."""
    diff = s_out[:, None] - s_in[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_auroc_equals_rank_count_with_ties():
    rng = np.random.default_rng(0)
    s_in = rng.integers(0, 6, 40).astype(float)  # integer scores: many ties
    s_out = rng.integers(2, 9, 30).astype(float)
    assert auroc(s_in, s_out) == pytest.approx(pairwise_auroc(s_in, s_out))
    assert auroc(torch.tensor([0.1, 0.2]), torch.tensor([0.3, 0.4])) == 1.0
    assert auroc([0.3, 0.4], [0.1, 0.2]) == 0.0


def test_fpr_at_tpr_hand_worked():
    s_in = np.arange(1, 21, dtype=float)  # 1..20; 95% of 20 = 19 accepted -> threshold 19
    s_out = np.array([5.0, 19.0, 19.5, 30.0])
    assert fpr_at_tpr(s_in, s_out, tpr=0.95) == pytest.approx(0.5)
    assert fpr_at_tpr(s_in, s_out, tpr=0.5) == pytest.approx(0.25)  # threshold 10
    with pytest.raises(ConfigError):
        fpr_at_tpr(s_in, s_out, tpr=0.0)


def test_aupr_hand_worked():
    # Descending: 0.8 out, 0.4 in, 0.35 out, 0.1 in -> precision at the positives: 1, 2/3.
    assert aupr([0.1, 0.4], [0.35, 0.8]) == pytest.approx((1 + 2 / 3) / 2)
    # In as positive, score negated: -0.1 in, -0.35 out, -0.4 in, -0.8 out -> 1, 2/3.
    assert aupr([0.1, 0.4], [0.35, 0.8], positive="in") == pytest.approx((1 + 2 / 3) / 2)


def test_rejection_curve_hand_worked():
    u = [0.9, 0.1, 0.5, 0.3]
    correct = [False, True, True, False]
    rates, acc = rejection_curve(u, correct, rates=(0.0, 0.25, 0.5, 0.75))
    assert acc == pytest.approx([0.5, 2 / 3, 0.5, 1.0])  # keep 4, 3 (0.1, 0.3, 0.5), 2 (0.1, 0.3), 1 (0.1)
    assert rates == [0.0, 0.25, 0.5, 0.75]


def test_bad_scores_are_rejected():
    with pytest.raises(DataError, match="non-empty 1-D"):
        auroc([], [1.0])
    with pytest.raises(DataError, match="NaN"):
        auroc([float("nan")], [1.0])
    with pytest.raises(DataError, match="one flag per input"):
        rejection_curve([0.1, 0.2], [True])
