"""One planted problem per check: a model with exactly that problem gets exactly that finding; a clean model
gets none."""
import pytest
import torch
from torch import nn

from limitlab.audit import audit
from limitlab.audit.masking import FLAGS
from limitlab.audit.preflight import Preflight
from limitlab.result import MetricValues
from tests.audit import cases, planted


def run(model, x, y, sections=("preflight",), **options):
    return {r.study.removeprefix("audit-"): r for r in audit(model, x, y, preset="tiny", sections=sections,
                                                                 **options)}


def problems(result):
    return {k for k, v in Preflight().problems(MetricValues(result.metrics)).items() if v}


def flags(result):
    return {k for k in FLAGS if result.metric(f"flag_{k}")}


def notes(result):
    return {row[0] for row in result.tables[0].rows if row[2] == "note"}


@pytest.fixture(scope="module")
def digits_test():
    return cases.digits_xy("test")


@pytest.fixture(scope="module")
def clean(mlp, digits_test):
    return run(mlp, *digits_test, sections=("preflight", "robustness"), bounds=(0.0, 1.0))


def test_a_clean_model_has_no_problem_note_or_flag(clean):
    assert problems(clean["preflight"]) == set() and notes(clean["preflight"]) == set()
    assert clean["preflight"].verdict == "fails" and flags(clean["robustness"]) == set()
    assert clean["robustness"].verdict in ("holds", "fails", "inconclusive")


@pytest.mark.parametrize("wrap, problem", [
    (planted.RandomForward, "random forward pass"),
    (planted.BatchCentred, "random forward pass"),
    (planted.SqrtInput, "masked input gradients"),
    (lambda m: nn.Sequential(cases.Threshold(0.5), m), "no input gradient path"),
])
def test_each_preflight_problem_alone(mlp, digits_test, wrap, problem):
    a = run(wrap(mlp), *digits_test, bounds=(0.0, 1.0))
    assert problems(a["preflight"]) == {problem} and a["preflight"].verdict == "holds"


def test_a_random_forward_pass_makes_every_section_unreliable(mlp, digits_test):
    x, y = digits_test
    a = run(planted.RandomForward(mlp), x[:120], y[:120], sections=None, bounds=(0.0, 1.0))
    assert {k: r.verdict for k, r in a.items() if k != "preflight"} == dict.fromkeys(
        ("robustness", "corruption", "calibration", "uncertainty", "ood", "slices"), "unreliable")


def test_accuracy_at_chance_alone(mlp, digits_test):
    x, y = digits_test
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    a = run(mlp, x, shuffled, sections=("robustness",), bounds=(0.0, 1.0))
    assert problems(a["preflight"]) == {"accuracy no better than the most common label"}
    assert a["robustness"].verdict == "inconclusive" and "nothing to attack" in a["robustness"].evidence


def test_notes_are_not_problems(mlp, digits_test):
    x, y = digits_test
    dropout = nn.Sequential(mlp, nn.Dropout(0.1)).train()
    a = run(dropout, x, y, bounds=(0.0, 1.0))
    assert problems(a["preflight"]) == set() and notes(a["preflight"]) == {"modes"}
    assert dropout.training  # handed back in train mode
    few = y < 3
    b = run(mlp, x[few], y[few], bounds=(0.0, 1.0))
    assert notes(b["preflight"]) == {"classes"} and "labels use 3 of them" in b["preflight"].tables[0].rows[4][1]
    assert notes(run(mlp, x, y)["preflight"]) == {"bounds"}  # inferred, and said so


def test_zero_gradients_on_some_clean_inputs_raise_only_that_flag(mlp, digits_test):
    x, y = digits_test
    heavy = float(x.flatten(1).sum(1).median())
    model = planted.GradientLie(mlp, x, on=0.0, off=1.0, select=lambda v: v.flatten(1).sum(1) > heavy)
    a = run(model, x, y, sections=("robustness",), bounds=(0.0, 1.0))
    chosen = float((x.flatten(1).sum(1) > heavy).float().mean())
    assert a["preflight"].metric("zero_grad_share") == pytest.approx(chosen)
    assert flags(a["robustness"]) == {"zero_grad"} and a["robustness"].verdict == "unreliable"


def test_a_gradient_that_lies_at_the_clean_inputs_raises_only_fgsm_no_effect(mlp, digits_test):
    x, y = digits_test
    a = run(planted.GradientLie(mlp, x, on=-1.0, off=1.0), x, y, sections=("robustness",), bounds=(0.0, 1.0))
    assert flags(a["robustness"]) == {"fgsm_no_effect"} and a["robustness"].verdict == "unreliable"
    assert a["preflight"].metric("zero_grad_share") == 0.0  # the gradient exists: it only points the wrong way


def test_gradients_masked_away_from_the_data_raise_the_attack_comparison_flags(mlp, digits_test):
    # True gradients at the clean inputs (FGSM works, the zero-gradient check passes), none once PGD's random
    # start has moved an input: one problem, and its symptoms are every comparison with PGD at once.
    x, y = digits_test
    a = run(planted.GradientLie(mlp, x, on=1.0, off=0.0), x, y, sections=("robustness",), bounds=(0.0, 1.0))
    assert flags(a["robustness"]) == {"fgsm_beats_pgd", "noise_beats_pgd", "square_beats_pgd", "unbounded_pgd_fails"}
    assert a["robustness"].verdict == "unreliable"


def test_a_narrow_adversarial_region_makes_pgd_non_monotone():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, 4, generator=gen)
    x[:, 0] = 0.5
    y = torch.zeros(200, dtype=torch.long)
    a = run(planted.NarrowBump(), x, y, sections=("robustness",), bounds=(0.0, 1.0),
            settings={"robustness.eps_grid": "0.05,0.1,0.15,0.2", "robustness.headline_eps": "0.1"})
    assert "pgd_not_monotone" in flags(a["robustness"]) and a["robustness"].verdict == "unreliable"
