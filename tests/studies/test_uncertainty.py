"""The uncertainty study: its verdict rule on hand-made metrics, the OOD sets and the regression loss."""

import pytest

from limitlab.data.ood_sets import OOD_SETS
from limitlab.studies.uncertainty import Uncertainty
from limitlab.uncertainty.scores import SCORES


def metrics(**changes) -> dict:
    m = {f"conf_{n}": 0.8 for n in ("test", *OOD_SETS)}
    for s in SCORES:
        for n in OOD_SETS:
            m[f"auroc_{s}_{n}"] = 0.80 if s == "max-softmax" else 0.90
        m[f"mean_auroc_{s}"] = 0.80 if s == "max-softmax" else 0.90
    m["epistemic_ratio"] = 3.0
    return m | changes


def judge(**changes):
    return Uncertainty().judge(metrics(**changes))


def test_rule_holds_when_every_part_holds():
    assert judge().status == "holds"


@pytest.mark.parametrize("changes, status, part", [
    ({f"conf_{n}": 0.3 for n in OOD_SETS}, "fails", "confident"),
    ({"mean_auroc_mc-entropy": 0.81, "mean_auroc_mc-mi": 0.81, "mean_auroc_ens-entropy": 0.815}, "fails", "better"),
    ({f"auroc_{s}_{n}": 0.995 for s in SCORES for n in OOD_SETS}, "inconclusive", "imperfect"),
    ({"epistemic_ratio": 1.5}, "inconclusive", "epistemic"),
])
def test_rule_names_the_part_that_did_not_hold(changes, status, part):
    verdict = judge(**changes)
    assert verdict.status == status and part in verdict.evidence


def test_evidence_names_sets_where_mc_dropout_does_not_beat_max_softmax():
    verdict = judge(**{"auroc_mc-entropy_blobs": 0.7})
    assert "does not beat max softmax on blobs" in verdict.evidence
    assert "does not beat" not in judge().evidence
