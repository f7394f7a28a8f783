"""The eot study: its verdict rule on hand-made metrics, the success measurement and the augmentation hook."""
import pytest

from limitlab.errors import ConfigError
from limitlab.studies.eot import EOT

GOOD = {"success_plain_identity": 0.95, "success_plain_transformed": 0.4, "success_eot_identity": 0.9,
        "success_eot_transformed": 0.8, "clean_target_rate": 0.01, "clean_acc_transformed": 0.93,
        "l2_plain": 1.0, "l2_eot": 1.2, "grad_evals_plain": 20, "grad_evals_eot": 240}


def test_rule_holds_when_every_part_holds():
    assert EOT().judge(GOOD).status == "holds"


@pytest.mark.parametrize("changes, status, part", [
    ({"clean_acc_transformed": 0.7}, "inconclusive", "valid"),
    ({"success_plain_identity": 0.5}, "inconclusive", "works"),
    ({"success_plain_transformed": 0.85, "success_eot_transformed": 0.9}, "fails", "fragile"),
    ({"success_eot_transformed": 0.5}, "fails", "robust"),
])
def test_rule_names_the_part_that_did_not_hold(changes, status, part):
    verdict = EOT().judge(GOOD | changes)
    assert verdict.status == status and part in verdict.evidence


def test_config_checks():
    with pytest.raises(ConfigError, match="strengths"):
        EOT.configure(overrides={"strengths": "0,2"})
    with pytest.raises(ConfigError, match="max_rotation"):
        EOT.configure(overrides={"max_rotation": "-5"})
