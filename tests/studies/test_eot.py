"""The eot study's rule on hand-made metrics: gates first, then the paired drop and gain against their noise."""
import pytest

from limitlab.errors import ConfigError
from limitlab.result import MetricValues
from limitlab.studies.eot import EOT
from tests.studies.rules import metric_values

GOOD = {"success_plain_identity": 0.97, "success_plain_transformed": 0.65, "success_eot_identity": 0.95,
        "success_eot_transformed": 0.76, "plain_drop": 0.32, "eot_gain": 0.11, "clean_target_rate": 0.01,
        "clean_acc_transformed": 0.85, "l2_plain": 1.0, "l2_eot": 1.2, "grad_evals_plain": 40, "grad_evals_eot": 1200}
NOISE = {"success_plain_identity": 0.03, "success_eot_transformed": 0.05, "plain_drop": 0.05, "eot_gain": 0.04,
         "clean_acc_transformed": 0.03}


def judge(changes=None, noise=None, spread=None):
    return EOT().judge(metric_values(GOOD | (changes or {}), NOISE | (noise or {}), spread))


def test_rule_holds_when_every_part_holds():
    verdict = judge()
    assert verdict.status == "holds" and "EOT gain +11.0% +- 4.0%" in verdict.evidence


@pytest.mark.parametrize("changes, status, part", [
    ({"clean_acc_transformed": 0.7}, "inconclusive", "valid"),  # the classifier is not usable under T
    ({"success_plain_identity": 0.5}, "inconclusive", "works"),
    ({"plain_drop": 0.12}, "inconclusive", "fragile"),  # a drop of 0.12 clears 0.1 by less than its noise
    ({"plain_drop": 0.0}, "fails", "fragile"),  # no drop, beyond the noise: the plain examples survive T
    ({"eot_gain": 0.03}, "inconclusive", "robust"),  # a gain inside its noise
    ({"eot_gain": -0.1}, "fails", "robust"),  # EOT worse, beyond the noise
    ({"success_eot_transformed": 0.52}, "inconclusive", "robust"),  # most views not clearly fooled
])
def test_rule_names_the_part_that_did_not_hold(changes, status, part):
    verdict = judge(changes)
    assert verdict.status == status and part in verdict.evidence.split("Not shown:")[1]


def test_a_failed_gate_makes_the_claim_untested_not_false():
    assert judge({"clean_acc_transformed": 0.6, "eot_gain": -0.1}).status == "inconclusive"


def test_over_seeds_the_gain_must_clear_its_spread():
    assert judge(spread={"eot_gain": 0.12}).status == "inconclusive"  # a gain of 0.11 inside a spread of 0.12


def test_nothing_measured_is_not_a_pass():
    assert EOT().judge(MetricValues({})).status == "inconclusive"


def test_config_checks():
    with pytest.raises(ConfigError, match="strengths"):
        EOT.configure(overrides={"strengths": "0,2"})
    with pytest.raises(ConfigError, match="max_rotation"):
        EOT.configure(overrides={"max_rotation": "-5"})
    with pytest.raises(ConfigError, match="num_draws=1"):
        EOT.configure(overrides={"num_draws": "1"})
