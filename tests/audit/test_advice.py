"""Each finding's card ("what to try next") appears for its finding, with this run's numbers, and not without it."""
import pytest
import torch
from torch import nn

from limitlab.audit import advice, audit
from limitlab.result import Metric, MetricValues, Verdict
from tests.audit import cases, planted


def run(model, x, y, sections, **options):
    return {r.study.removeprefix("audit-"): r for r in audit(model, x, y, preset="tiny", sections=sections,
                                                                 bounds=(0.0, 1.0), **options)}


@pytest.fixture(scope="module")
def digits_test():
    return cases.digits_xy("test")


def test_a_clean_model_gets_a_card_only_where_something_was_found(mlp, digits_test):
    a = run(mlp, *digits_test, "robustness")
    assert a["preflight"].verdict == "fails" and a["preflight"].advice == ""
    rob = a["robustness"]
    assert rob.verdict == "holds" and rob.advice.startswith(f"Fragile: the worst-case accuracy halves at eps "
                                                            f"{rob.metric('eps_half'):.3f}")
    assert "adversarial training" in rob.advice and "--train FILE" in rob.advice


@pytest.mark.parametrize("wrap, preflight_words, robustness_words", [
    (planted.RandomForward, "Make the eval-mode forward pass deterministic", "deterministic first"),
    (planted.SqrtInput, "100% of the inputs have a zero or NaN loss gradient", "Zero or NaN gradients"),
    (lambda m: nn.Sequential(cases.Threshold(0.5), m), "The loss has no gradient with respect to the input",
     "The loss has no input gradient, so FGSM and PGD could not run"),
])
def test_each_preflight_problem_gets_its_card_and_the_robustness_card_follows(mlp, digits_test, wrap,
                                                                               preflight_words, robustness_words):
    a = run(wrap(mlp), *digits_test, "robustness")
    assert a["preflight"].advice.startswith(preflight_words)
    assert robustness_words in a["robustness"].advice and a["robustness"].verdict == "unreliable"


def test_labels_that_do_not_follow_the_outputs_get_the_labels_card(mlp, digits_test):
    x, y = digits_test
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    a = run(mlp, x, shuffled, "robustness")
    pre = a["preflight"]
    assert f"The accuracy {pre.metric('clean_acc'):.1%}" in pre.advice and "output order" in pre.advice
    assert a["robustness"].advice.startswith("Fix the clean accuracy first")


def test_bounds_wider_than_the_data_get_the_bounds_card(outlier):
    lin, x, y = outlier
    a = {r.study: r for r in audit(lin, x, y, preset="tiny", sections="calibration",
                                   bounds=(float(x.min()), float(x.max())))}
    assert "91% of the features cover less than a quarter" in a["audit-preflight"].advice
    assert "--bounds FILE" in a["audit-preflight"].advice


def test_masked_gradients_name_their_symptoms_and_the_gradient_free_attack(mlp, digits_test):
    x, y = digits_test
    rob = run(planted.GradientLie(mlp, x, on=1.0, off=0.0), x, y, "robustness")["robustness"]
    assert rob.advice.startswith("Do not quote this robustness number")
    assert "One FGSM step beats PGD" in rob.advice and "Square" in rob.advice and "Zero or NaN" not in rob.advice


def test_confidence_that_misses_errors_gets_the_ensemble_card_and_mc_dropout_where_it_helps(mlp, examples_net,
                                                                                           digits_test):
    x, y = digits_test
    noisy = (x + 0.35 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    unc = run(mlp, noisy, y, "uncertainty")["uncertainty"]
    assert unc.verdict == "holds" and f"AUROC {unc.metric('auroc_max-softmax'):.3f}" in unc.advice
    assert "no dropout to sample" in unc.advice and "deep ensemble" in unc.advice
    drop = run(examples_net, noisy, y, "uncertainty")["uncertainty"]  # it has dropout: MC dropout was measured
    assert drop.verdict == "holds" and "MC dropout did not help measurably (entropy AUROC" in drop.advice


def test_mc_dropout_is_recommended_when_its_gain_is_measured():
    m = MetricValues({"num_wrong": Metric(40), "auroc_max-softmax": Metric(0.7, interval=[0.6, 0.8]),
                      "auroc_mc-entropy": Metric(0.85, interval=[0.8, 0.9]),
                      "mc_gain": Metric(0.15, interval=[0.1, 0.2])})
    card = advice.uncertainty(Verdict("holds", ""), m)
    assert "MC dropout already does better here (entropy AUROC 0.850 [0.800, 0.900])" in card
