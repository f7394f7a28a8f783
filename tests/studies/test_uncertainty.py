"""The uncertainty study's rule on hand-made metrics: each part against its noise floor and the seed spread."""
import pytest

from limitlab.data.digit_ood import OOD_SETS
from limitlab.result import MetricValues
from limitlab.studies.uncertainty import Uncertainty
from limitlab.uncertainty.scores import SCORES
from tests.studies.rules import metric_values


def metrics(changes=None, noise=None, spread=None) -> MetricValues:
    m = {f"conf_{n}": 0.8 for n in ("test", "ood", *OOD_SETS)}
    for s in SCORES:
        for n in OOD_SETS:
            m[f"auroc_{s}_{n}"] = 0.80 if s == "max-softmax" else 0.90
        m[f"mean_auroc_{s}"] = 0.80 if s == "max-softmax" else 0.90
    m |= {"auroc_gain": 0.10, "auroc_hardest": 0.90, "epistemic_ratio": 2.1} | (changes or {})
    floors = {"conf_ood": 0.02, "auroc_gain": 0.03, "auroc_hardest": 0.03, "epistemic_ratio": 0.2} | (noise or {})
    return metric_values(m, floors, spread)


def judge(changes=None, noise=None, spread=None):
    return Uncertainty().judge(metrics(changes, noise, spread))


def test_rule_holds_when_every_part_holds():
    verdict = judge()
    assert verdict.status == "holds" and "gain +0.100 +- 0.030" in verdict.evidence


@pytest.mark.parametrize("changes, status, part", [
    ({"conf_ood": 0.3}, "fails", "confident"),
    ({"conf_ood": 0.51}, "inconclusive", "confident"),  # above 0.5 by less than its noise
    ({"auroc_gain": 0.02}, "inconclusive", "better"),  # a gain inside its bootstrap noise
    ({"auroc_gain": -0.05}, "fails", "better"),  # MC dropout worse, beyond the noise
    ({"auroc_hardest": 0.97}, "inconclusive", "imperfect"),  # within noise of 0.99: not shown to fall short
    ({"epistemic_ratio": 1.1}, "inconclusive", "epistemic"),  # larger outside, but within the Monte Carlo noise
    ({"epistemic_ratio": 0.8}, "inconclusive", "epistemic"),
])
def test_rule_names_the_part_that_did_not_hold(changes, status, part):
    verdict = judge(changes)
    assert verdict.status == status and part in verdict.evidence.split("Not shown:")[1]


def test_the_epistemic_ratio_must_clear_the_seed_spread():
    # The numbers: 2.14 +- 0.61 over seeds clears a bar of 1 by more than its spread; 1.5 +- 0.61 would not.
    assert judge({"epistemic_ratio": 2.14}, spread={"epistemic_ratio": 0.61}).status == "holds"
    assert judge({"epistemic_ratio": 1.5}, spread={"epistemic_ratio": 0.61}).status == "inconclusive"


def test_evidence_names_sets_where_mc_dropout_does_not_beat_max_softmax():
    assert "does not beat max softmax on blobs" in judge({"auroc_mc-entropy_blobs": 0.7}).evidence
    assert "does not beat" not in judge().evidence


def test_nothing_measured_is_not_a_pass():
    assert Uncertainty().judge(MetricValues({})).status != "holds"
