"""Weighted statistics with integer weights equal the plain statistics on the repeated inputs."""
import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from limitlab import calibration as cal
from limitlab import ood
from limitlab.errors import ConfigError
from limitlab.stats import weighted


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    s_in = rng.integers(0, 6, 80).astype(float)  # integer scores: many ties
    s_out = rng.integers(2, 9, 50).astype(float)
    w_in = rng.integers(0, 4, (5, 80)).astype(float)
    w_out = rng.integers(0, 4, (5, 50)).astype(float)
    return s_in, s_out, w_in, w_out


def test_auroc_is_sklearns_on_repeated_scores(data):
    s_in, s_out, w_in, w_out = data
    got = weighted.auroc(w_in, s_in, w_out, s_out)
    for b in range(5):
        rep_in, rep_out = np.repeat(s_in, w_in[b].astype(int)), np.repeat(s_out, w_out[b].astype(int))
        labels = np.r_[np.zeros(len(rep_in)), np.ones(len(rep_out))]
        assert got[b] == pytest.approx(roc_auc_score(labels, np.r_[rep_in, rep_out]), abs=1e-12)


def test_fpr_at_tpr_is_limitlabs_on_repeated_scores(data):
    s_in, s_out, w_in, w_out = data
    got = weighted.fpr_at_tpr(w_in, s_in, w_out, s_out, tpr=0.9)
    for b in range(5):
        rep_in, rep_out = np.repeat(s_in, w_in[b].astype(int)), np.repeat(s_out, w_out[b].astype(int))
        assert got[b] == pytest.approx(ood.fpr_at_tpr(rep_in, rep_out, tpr=0.9), abs=1e-12)


def test_ece_is_limitlabs_on_repeated_inputs():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(120, 4, generator=gen, dtype=torch.float64), 1)
    y = torch.randint(0, 4, (120,), generator=gen)
    conf, pred = probs.max(1)
    w = np.random.default_rng(2).integers(0, 3, (4, 120)).astype(float)
    got = weighted.ece(w, conf.numpy(), (pred == y).numpy(), bins=10)
    for b in range(4):
        idx = torch.from_numpy(np.repeat(np.arange(120), w[b].astype(int)))
        assert got[b] == pytest.approx(cal.ece(probs[idx], y[idx], bins=10), abs=1e-12)


def test_unit_weights_give_the_plain_statistic(data):
    s_in, s_out, _, _ = data
    plain = weighted.auroc(np.ones(80), s_in, np.ones(50), s_out)
    assert plain.shape == (1,) and plain[0] == pytest.approx(ood.auroc(s_in, s_out))


@pytest.mark.parametrize("positive", ["in", "out"])
def test_aupr_is_sklearns_average_precision_with_count_weights(data, positive):
    s_in, s_out, w_in, w_out = data
    got = weighted.aupr(w_in, s_in, w_out, s_out, positive=positive)
    sign = -1.0 if positive == "in" else 1.0  # sklearn ranks the positives by a higher score
    labels = np.r_[np.ones(80), np.zeros(50)] if positive == "in" else np.r_[np.zeros(80), np.ones(50)]
    for b in range(5):
        expected = average_precision_score(labels, sign * np.r_[s_in, s_out], sample_weight=np.r_[w_in[b], w_out[b]])
        assert got[b] == pytest.approx(expected, abs=1e-12)
    plain = weighted.aupr(np.ones(80), s_in, np.ones(50), s_out, positive=positive)
    assert plain[0] == pytest.approx(ood.aupr(s_in, s_out, positive=positive), abs=1e-12)


def test_weighted_auroc_is_sklearns_with_sample_weights(data):
    s_in, s_out, w_in, w_out = data
    got = weighted.auroc(w_in, s_in, w_out, s_out)
    for b in range(5):
        expected = roc_auc_score(np.r_[np.zeros(80), np.ones(50)], np.r_[s_in, s_out],
                                 sample_weight=np.r_[w_in[b], w_out[b]])
        assert got[b] == pytest.approx(expected, abs=1e-12)


def test_aupr_of_a_bad_positive_is_one_line():
    with pytest.raises(ConfigError, match="positive='both'; expected 'in'"):
        weighted.aupr(np.ones(3), np.arange(3.0), np.ones(2), np.arange(2.0), positive="both")
