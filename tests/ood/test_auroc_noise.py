"""AUROC noise: Hanley & McNeil against simulation; the bootstrap gap against sklearn and a closed case."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from limitlab.ood.auroc_noise import _auroc_rows, auroc_se, mean_auroc_gap_bootstrap


def test_hanley_mcneil_matches_the_spread_of_simulated_aurocs():
    # Binormal scores with separation 1: AUROC = Phi(1 / sqrt(2)) ~ 0.76, on 360 vs 150 inputs.
    rng = np.random.default_rng(0)
    values = [roc_auc_score(np.r_[np.zeros(360), np.ones(150)], np.r_[rng.normal(0, 1, 360), rng.normal(1, 1, 150)])
              for _ in range(1000)]
    # The closed form assumes exponential score distributions; on binormal scores it errs on the safe side (~10%).
    se = auroc_se(float(np.mean(values)), 360, 150)
    assert float(np.std(values)) <= se <= 1.2 * float(np.std(values))
    assert auroc_se(1.0, 10, 10) == 0.0


def test_rowwise_auroc_is_sklearns_with_ties_counted_half():
    gen = torch.Generator().manual_seed(1)
    s_in, s_out = torch.randint(0, 5, (3, 40), generator=gen).double(), torch.randint(0, 6, (3, 30), generator=gen)
    rows = _auroc_rows(s_in, s_out.double())
    for r in range(3):
        expected = roc_auc_score(np.r_[np.zeros(40), np.ones(30)], np.r_[s_in[r].numpy(), s_out[r].numpy()])
        assert float(rows[r]) == pytest.approx(expected)


def test_bootstrap_gap_is_zero_for_the_same_detector_and_centres_on_the_true_gap():
    gen = torch.Generator().manual_seed(2)
    s_in = torch.randn(300, generator=gen, dtype=torch.float64)
    outs = [torch.randn(150, generator=gen, dtype=torch.float64) + 1 for _ in range(3)]
    same = mean_auroc_gap_bootstrap(s_in, outs, s_in, outs, num=50, generator=gen)
    assert torch.equal(same, torch.zeros(50, dtype=torch.float64))
    better = [o + 1 for o in outs]  # detector a separates each set further
    gap = mean_auroc_gap_bootstrap(s_in, better, s_in, outs, num=400, generator=gen)
    true = np.mean([roc_auc_score(np.r_[np.zeros(300), np.ones(150)], np.r_[s_in, b]) -
                    roc_auc_score(np.r_[np.zeros(300), np.ones(150)], np.r_[s_in, o]) for b, o in zip(better, outs)])
    assert float(gap.mean()) == pytest.approx(true, abs=0.01)
    assert 0 < float(gap.std()) < 0.05 and math.isfinite(float(gap.std()))
