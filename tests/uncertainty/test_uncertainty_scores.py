"""Uncertainty scores by name: the same numbers as the single probes, and only those that were asked for."""
import torch

from limitlab import uncertainty
from limitlab.uncertainty.scores import SCORES, uncertainty_scores


def test_scores_are_the_single_probes():
    gen = torch.Generator().manual_seed(0)
    mc = torch.softmax(torch.randn(6, 5, 3, generator=gen), -1)
    ens = torch.softmax(torch.randn(4, 5, 3, generator=gen), -1)
    out = uncertainty_scores(mc[0], mc=mc, ensemble=ens)
    assert tuple(out) == SCORES
    torch.testing.assert_close(out["max-softmax"], 1 - mc[0].max(-1).values)
    torch.testing.assert_close(out["mc-mi"], uncertainty.mutual_information(mc))
    torch.testing.assert_close(out["ens-entropy"], uncertainty.predictive_entropy(ens))
    assert tuple(uncertainty_scores(mc[0])) == ("max-softmax",)
