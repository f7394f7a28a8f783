"""Scores from logits in float64: no ties where float32 softmax rounds to 1.0."""
import math

import pytest
import torch

from limitlab.uncertainty.logit_scores import uncertainty_scores


def test_scores_are_the_closed_forms():
    z = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    s = uncertainty_scores(z)
    lse = math.log(math.exp(2) + 1 + math.exp(-1))
    assert s["max-softmax"].tolist() == pytest.approx([lse - 2, math.log(3)])
    assert s["energy"].tolist() == pytest.approx([-lse, -math.log(3)])
    assert s["max-logit"].tolist() == [-2.0, 0.0]
    assert set(uncertainty_scores(z, logits=False)) == {"max-softmax"}


def test_confident_inputs_do_not_tie():
    z = torch.tensor([[0.0, 30.0], [0.0, 40.0]])
    assert torch.equal(torch.softmax(z, 1).max(1).values, torch.ones(2))  # float32: a tie at 1.0
    s = uncertainty_scores(z)["max-softmax"]
    assert s.dtype == torch.float64 and s[0] > s[1] > 0
    assert float(s[0]) == pytest.approx(math.log1p(math.exp(-30)), rel=1e-9)
