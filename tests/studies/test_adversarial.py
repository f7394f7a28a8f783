"""The adversarial study's rule on hand-made metrics: each part, its noise floor, and the spread over seeds."""
import pytest

from limitlab.result import MetricValues
from limitlab.studies.adversarial import Adversarial
from tests.studies.rules import metric_values

GOOD = {"clean_acc_logreg": 0.95, "acc_pgd-inf_logreg": 0.1, "acc_fgsm_logreg": 0.2, "acc_noise-sign_logreg": 0.94,
        "clean_acc_cnn": 0.98, "acc_pgd-inf_cnn": 0.05, "acc_fgsm_cnn": 0.3, "acc_noise-sign_cnn": 0.97,
        "pgd_over_fgsm_logreg": 0.1, "pgd_over_fgsm_cnn": 0.25, "wrong_confidence": 0.8, "targeted_eps": 0.2,
        "targeted_success": 0.9, "targeted_weakest": 0.7, "robust_gain": 0.4, "clean_cost": 0.03,
        "acc_pgd-inf_robust": 0.6, "acc_pgd-inf_standard": 0.2, "clean_acc_robust": 0.94, "clean_acc_standard": 0.97,
        "headline_eps": 0.1}
NOISE = {"acc_pgd-inf_cnn": 0.02, "acc_noise-sign_cnn": 0.02, "pgd_over_fgsm_logreg": 0.03, "pgd_over_fgsm_cnn": 0.04,
         "wrong_confidence": 0.03, "targeted_weakest": 0.1, "robust_gain": 0.05, "clean_cost": 0.003}


def judge(changes=None, noise=None, spread=None):
    study = Adversarial.configure(overrides={"models": "logreg,cnn"})
    return study.judge(metric_values(GOOD | (changes or {}), NOISE | (noise or {}), spread))


def test_rule_holds_when_every_part_holds():
    verdict = judge()
    assert verdict.status == "holds" and "from eps 0.2" in verdict.evidence


@pytest.mark.parametrize("changes, noise, status, part", [
    ({"acc_pgd-inf_cnn": 0.6}, {}, "fails", "flip"),
    ({"acc_pgd-inf_cnn": 0.48}, {}, "inconclusive", "flip"),  # below half of 0.98 = 0.49, not by its floor 0.02
    ({"acc_noise-sign_cnn": 0.5}, {}, "fails", "flip"),  # noise as damaging as the attack: size, not direction
    ({"headline_eps": 0.4}, {}, "fails", "flip"),  # it takes a change larger than "small" to halve accuracy
    ({"wrong_confidence": 0.52}, {}, "inconclusive", "confident"),  # above 0.5 by less than its noise
    ({"pgd_over_fgsm_cnn": 0.03}, {}, "inconclusive", "iterate"),  # PGD's edge on the CNN within the noise
    ({"pgd_over_fgsm_logreg": -0.05}, {}, "inconclusive", "iterate"),  # PGD weaker than FGSM beyond the noise
    ({"targeted_weakest": 0.55}, {}, "inconclusive", "targeted"),  # the hardest class: within noise of half
    ({"robust_gain": 0.22}, {}, "inconclusive", "remedy"),
    ({"clean_cost": 0.002}, {}, "inconclusive", "cost"),  # Goodfellow et al.'s "no cost" would read like this
    ({"clean_cost": -0.02}, {}, "inconclusive", "cost"),
])
def test_rule_names_the_part_that_did_not_hold(changes, noise, status, part):
    verdict = judge(changes, noise)
    assert verdict.status == status and part in verdict.evidence.split("Not shown:")[1]


def test_a_linear_model_need_not_gain_from_iterating():
    # FGSM is optimal for a linear model: PGD may tie with it (within noise) there; only the CNN must gain.
    assert judge({"pgd_over_fgsm_logreg": -0.02}).status == "holds"


def test_over_seeds_the_spread_is_a_margin_too():
    # A gain of 0.3 clears 0.2 by 0.1 > its noise 0.05, but not when the seeds spread by 0.15.
    assert judge({"robust_gain": 0.3}).status == "holds"
    assert judge({"robust_gain": 0.3}, spread={"robust_gain": 0.15}).status == "inconclusive"


def test_nothing_measured_is_not_a_pass():
    verdict = Adversarial().judge(MetricValues({}))
    assert verdict.status == "inconclusive" and "n/a" in verdict.evidence


def test_remedy_parts_leave_the_rule_without_adversarial_training():
    study = Adversarial.configure(overrides={"models": "logreg,cnn", "adv_train": "false"})
    verdict = study.judge(metric_values(GOOD, NOISE))
    assert verdict.status == "holds" and "adversarial training" not in verdict.evidence


@pytest.mark.parametrize("cost, floor, spread", [(0.05, 0.02, None), (0.0, 0.02, None), (0.05, 0.003, 0.01)])
def test_a_cost_finer_than_the_floor_is_not_resolvable_whatever_its_value(cost, floor, spread):
    # Madry et al.'s MNIST cost is 0.4 points; a floor (or spread over seeds) above that cannot resolve it, so even
    # a 5-point cost that clears a 2-point floor (a lucky seed) does not decide the verdict.
    verdict = judge({"clean_cost": cost}, {"clean_cost": floor}, spread and {"clean_cost": spread})
    assert verdict.status == "inconclusive" and "Not resolvable: cost" in verdict.evidence
    assert "Not shown" not in verdict.evidence  # every other part held


def test_a_resolvable_cost_is_judged():
    assert judge({"clean_cost": 0.01}, {"clean_cost": 0.003}).status == "holds"
