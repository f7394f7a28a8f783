"""The adversarial study: its verdict rule on hand-made metrics, and its attack helpers."""
import pytest

from limitlab.studies.adversarial import Adversarial

GOOD = {"clean_acc_logreg": 0.95, "acc_pgd-inf_logreg": 0.1, "acc_fgsm_logreg": 0.2, "acc_noise-sign_logreg": 0.94,
        "clean_acc_cnn": 0.98, "acc_pgd-inf_cnn": 0.05, "acc_fgsm_cnn": 0.3, "acc_noise-sign_cnn": 0.97,
        "wrong_confidence": 0.8, "targeted_success": 0.9, "robust_gain": 0.6, "clean_cost": 0.02,
        "robust_pgd_acc": 0.65, "robust_clean_acc": 0.96, "headline_eps": 0.1}


def judge(**changes):
    study = Adversarial.configure(overrides={"models": "logreg,cnn"})
    return study.judge(GOOD | changes)


def test_rule_holds_when_every_part_holds():
    assert judge().status == "holds"


@pytest.mark.parametrize("changes, status, part", [
    ({"acc_pgd-inf_cnn": 0.6}, "fails", "flip"),
    ({"acc_noise-sign_cnn": 0.5}, "fails", "flip"),  # noise as damaging as the attack: size, not direction
    ({"headline_eps": 0.4}, "fails", "flip"),  # it takes a change larger than "small" to halve accuracy
    ({"wrong_confidence": 0.4}, "inconclusive", "confident"),
    ({"acc_pgd-inf_logreg": 0.25}, "inconclusive", "iterate"),
    ({"targeted_success": 0.3}, "inconclusive", "targeted"),
    ({"clean_cost": -0.01}, "inconclusive", "remedy"),
    ({"robust_gain": 0.1}, "inconclusive", "remedy"),
])
def test_rule_names_the_part_that_did_not_hold(changes, status, part):
    verdict = judge(**changes)
    assert verdict.status == status and part in verdict.evidence


def test_headline_eps_is_the_smallest_that_halves_accuracy():
    study = Adversarial.configure(overrides={"eps_grid": "0,0.05,0.1,0.2"})
    assert study.headline_eps([0.9, 0.7, 0.45, 0.1]) == 0.1   # 0.45 <= 0.9 / 2
    assert study.headline_eps([0.9, 0.8, 0.7, 0.6]) == 0.2    # never halved: the largest, and "flip" fails
    assert Adversarial.configure(overrides={"eps": "0.07"}).headline_eps([0.9, 0.1, 0.1, 0.1]) == 0.07
