"""The calibration study: its verdict rule and its bootstrap on hand-made numbers."""

from limitlab.studies.calibration import Calibration

GOOD = {"temperature": 1.8, "temperature_first": 0.5, "ece": 0.05, "ece_first": 0.08, "ece_ts": 0.01,
        "ece_se": 0.01, "nll": 0.2, "nll_ts": 0.1, "acc": 0.97, "acc_ts": 0.97, "max_temperature_last": 1.8,
        "cnn_ece": 0.02, "cnn_ece_ts": 0.01, "cnn_temperature": 1.2}


def judge(**changes):
    return Calibration().judge(GOOD | changes)


def test_rule():
    assert judge().status == "holds"
    assert judge(ece_ts=0.03).status == "inconclusive"       # scaling did not halve ECE
    assert judge(acc_ts=0.96).status == "inconclusive"       # accuracy changed: a bug or a tie, not a pass
    assert judge(temperature=1.05).status == "inconclusive"  # over-confident, but not by the stated margin
    under = judge(temperature=0.8, max_temperature_last=0.9)
    assert under.status == "fails" and "No over-confidence" in under.evidence
