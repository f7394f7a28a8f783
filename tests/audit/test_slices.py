"""The slices section: per-class and per-group numbers by counting, ECE by brute force, attack success against the
closed-form attack on a linear model, the Bonferroni-adjusted Newcombe interval rebuilt from scipy's Wilson
intervals, and planted problems (wrong on exactly one class / one group; a uniform model)."""
import numpy as np
import pytest
import torch
from scipy.stats import binomtest
from torch import nn

from limitlab.audit import audit
from limitlab.audit.slices import Slices
from limitlab.audit.slices_views import label
from limitlab.result import MetricValues
from tests.audit import cases
from tests.helpers import linear_model


def run(model, x, y, **options):
    return audit(model, x, y, preset="tiny", sections="slices", **options)["slices"]


def left_behind(result):
    m = MetricValues(result.metrics)
    return {label(m, k) for k, v in Slices().behind(m).items() if v}


def wilson(k, n, level):
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return ci.low, ci.high


def newcombe_by_scipy(k1, n1, k2, n2, level):
    """Newcombe (1998) method 10 from scipy's Wilson intervals: p1 - p2 with the square-root combination."""
    (l1, u1), (l2, u2) = wilson(k1, n1, level), wilson(k2, n2, level)
    p1, p2 = k1 / n1, k2 / n2
    return p1 - p2 - np.hypot(p1 - l1, u2 - p2), p1 - p2 + np.hypot(u1 - p1, p2 - l2)


@pytest.fixture(scope="module")
def digits_test():
    return cases.digits_xy("test")


def test_per_class_and_per_group_numbers_by_counting(mlp, digits_test):
    x, y = digits_test
    groups = np.array(["a", "b", "c"], dtype="<U4")[np.arange(len(y)) % 3]
    groups[:12] = "tiny"  # a slice too small to judge
    r = run(mlp, x, y, bounds=(0.0, 1.0), groups=groups)
    with torch.no_grad():
        z = mlp(x).double()
    right = (z.argmax(1) == y).numpy()
    codes = {"class": (y.numpy(), [str(k) for k in range(10)]), "group": (groups, ["a", "b", "c", "tiny"])}
    judged = 10 + 3
    level = 1 - 0.05 / judged
    assert r.metric("num_judged") == judged and r.metric("adjusted_level") == pytest.approx(level)
    for family, (ids, names) in codes.items():
        for k, name in enumerate(names):
            inside = ids == (k if family == "class" else name)
            key, n, hits = f"{family}_{k}", int(inside.sum()), int(right[inside].sum())
            assert r.metric(f"n_{key}") == n and r.metric(f"acc_{key}") == hits / n
            assert r.metrics[f"acc_{key}"].interval == pytest.approx(list(binomtest(hits, n).proportion_ci(0.95)))
            rest_hits, rest_n = int(right[~inside].sum()), int((~inside).sum())
            assert r.metric(f"gap_{key}") == pytest.approx(rest_hits / rest_n - hits / n)
            gap = r.metrics[f"gap_{key}"].interval
            if name == "tiny":
                assert gap is None and "not judged" in r.tables[0].rows[-1][-1]
            else:
                assert gap == pytest.approx(list(newcombe_by_scipy(rest_hits, rest_n, hits, n, level)), abs=1e-9)
            probs = torch.softmax(z[torch.from_numpy(inside)], 1)
            assert r.metric(f"ece_{key}") == pytest.approx(cases.brute_force_ece(probs, y[torch.from_numpy(inside)]),
                                                           abs=1e-9)
    assert r.verdict == "inconclusive" and "worst class: class 8" in r.evidence
    assert len(r.figures[0].panels) == 6  # accuracy, PGD success, ECE: per class and per group


def test_attack_success_per_class_against_the_closed_form_attack_on_a_linear_model(cancer):
    lin, x, y = cancer
    r = run(lin, x, y)
    robust = cases.linear_worst_case(lin, x, y, lo=x.amin(0), hi=x.amax(0), eps=0.1)  # PGD's optimum
    with torch.no_grad():
        clean = lin(x).argmax(1) == y
    for k in (0, 1):
        correct = clean & (y == k)
        fooled = int((correct & ~robust).sum())
        assert r.metric(f"attack_class_{k}") * int(correct.sum()) == pytest.approx(fooled, abs=1)
    assert r.metric("attack") == pytest.approx(float((clean & ~robust).sum() / clean.sum()), abs=1 / len(y))


class Suppress(nn.Module):
    """Never predicts class `k`: its inputs are all wrong, the others' predictions are unchanged or improved."""

    def __init__(self, model, k):
        super().__init__()
        self.model, self.k = model, k

    def forward(self, x):
        return self.model(x) - 100.0 * nn.functional.one_hot(torch.tensor(self.k), 3)


@pytest.fixture(scope="module")
def table():
    """3 classes from a linear model's own predictions, 10% of the labels replaced at random (errors that no
    class or group has more of), and 4 groups assigned at random."""
    gen = torch.Generator().manual_seed(0)
    model = linear_model(6, 3, seed=3)
    with torch.no_grad():
        model[1].bias.zero_()  # classes of similar size: 392, 375 and 433 of the 1200 inputs
    x = torch.rand(1200, 6, generator=gen) * 2 - 1
    with torch.no_grad():
        y = model(x).argmax(1)
    noisy = torch.rand(1200, generator=gen) < 0.1
    y[noisy] = torch.randint(0, 3, (int(noisy.sum()),), generator=gen)
    groups = torch.randint(0, 4, (1200,), generator=gen).numpy()
    return model, x, y, groups


def test_a_uniform_model_leaves_no_slice_behind(table):
    model, x, y, groups = table
    r = run(model, x, y, groups=groups, bounds=(-1.0, 1.0))
    assert r.verdict == "fails" and left_behind(r) == set() and r.advice == ""


def test_a_model_wrong_on_exactly_one_class_gets_exactly_that_finding(table):
    model, x, y, groups = table
    r = run(Suppress(model, 1), x, y, groups=groups, bounds=(-1.0, 1.0))
    assert r.verdict == "holds" and left_behind(r) == {"class 1"} and "Left behind" in r.evidence
    assert r.advice.startswith("class 1 has accuracy") and "class-balanced" in r.advice and "group DRO" not in r.advice


def test_a_model_wrong_on_exactly_one_group_gets_exactly_that_finding(table):
    model, x, y, groups = table
    y = y.clone()
    with torch.no_grad():
        pred = model(x).argmax(1)
    in_group = torch.from_numpy(groups == 2)
    y[in_group] = (pred[in_group] + 1) % 3  # the model is wrong on every input of group 2, and only there
    r = run(model, x, y, groups=groups, bounds=(-1.0, 1.0))
    assert r.verdict == "holds" and left_behind(r) == {"group '2'"}
    assert "group DRO" in r.advice and "class-balanced" not in r.advice


def test_without_a_gradient_the_slices_are_still_measured_and_attack_success_is_not(thresholded):
    x, y = cases.raw_digits("test")
    r = run(thresholded, x, y)
    assert "attack" not in r.metrics and not any(k.startswith("attack_") for k in r.metrics)
    assert len(r.figures[0].panels) == 2 and r.verdict != "error"


def test_masked_gradients_make_attack_success_a_stated_lower_bound(rounded):
    x, y = cases.raw_digits("test")
    r = run(rounded, x, y)
    assert r.metric("bad_grad_share") == 1.0 and r.metric("attack") < 0.05  # only PGD's random start moves anything
    assert "(a lower bound: 100% of the inputs have a zero or NaN loss gradient" in r.evidence


def test_probability_outputs_give_the_numbers_of_their_logits(mlp, softmax_mlp, digits_test):
    a, b = (run(m, *digits_test, bounds=(0.0, 1.0)) for m in (mlp, softmax_mlp))
    for k in range(10):
        assert a.metric(f"acc_class_{k}") == b.metric(f"acc_class_{k}")
        assert a.metric(f"ece_class_{k}") == pytest.approx(b.metric(f"ece_class_{k}"), abs=1e-6)
    assert a.verdict == b.verdict
