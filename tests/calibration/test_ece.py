"""ECE, MCE, reliability, NLL and Brier on hand-made inputs."""
import math

import pytest
import torch

from limitlab.calibration import brier, ece, mce, nll, reliability
from limitlab.errors import DataError


def two_class(conf, correct):
    """Probabilities whose top label has confidence `conf`, right when `correct`."""
    conf = torch.tensor(conf, dtype=torch.float64)
    probs = torch.stack([conf, 1 - conf], 1)
    y = torch.tensor([0 if c else 1 for c in correct])
    return probs, y


def test_ece_on_hand_made_bins():
    # 2 bins of width 0.5: confidences 0.6, 0.7 (bin 2, accuracy 1/2) and 0.9, 0.95, 1.0 (bin 2 as well)
    probs, y = two_class([0.6, 0.7, 0.9, 0.9], [True, False, True, True])
    # bins=4 -> edges 0, .25, .5, .75, 1: {0.6, 0.7} in (0.5, 0.75], {0.9, 0.9} in (0.75, 1]
    # bin 3: acc 1/2, conf 0.65 -> gap 0.15; bin 4: acc 1, conf 0.9 -> gap 0.1; ECE = (2*0.15 + 2*0.1)/4
    assert ece(probs, y, bins=4) == pytest.approx(0.125)
    assert mce(probs, y, bins=4) == pytest.approx(0.15)
    r = reliability(probs, y, bins=4)
    assert r.counts.tolist() == [0, 0, 2, 2]
    assert math.isnan(r.accuracy[0]) and r.accuracy[2] == pytest.approx(0.5)


def test_a_confidence_on_an_edge_goes_to_the_lower_bin():
    probs, y = two_class([0.75], [True])
    assert reliability(probs, y, bins=4).counts.tolist() == [0, 0, 1, 0]


def test_perfectly_calibrated_bins_have_zero_ece():
    probs, y = two_class([0.75] * 4, [True, True, True, False])
    assert ece(probs, y, bins=15) == pytest.approx(0.0)


def test_nll_and_brier_closed_forms():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    assert nll(probs, y) == pytest.approx(-(math.log(0.7) + math.log(0.1)) / 2)
    assert brier(probs, y) == pytest.approx(((0.09 + 0.04 + 0.01) + (0.01 + 0.81 + 0.64)) / 2)


def test_logits_instead_of_probabilities_are_refused():
    with pytest.raises(DataError, match="softmax"):
        ece(torch.tensor([[2.0, -1.0]]), torch.tensor([0]))
