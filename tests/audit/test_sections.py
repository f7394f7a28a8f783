"""The audit's sections against numbers worked out by hand or by an independent route."""
import pytest
import torch

from limitlab import audit as audit_pkg
from limitlab import calibration as cal
from limitlab.audit import audit
from limitlab.audit.calibration import split_halves
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import build
from tests.audit.models import MeanScore, binary_linear, dropout_mlp
from tests.helpers import linear_model


def curves(result):
    return {s["label"]: s["y"] for s in result.figures[0].panels[0]["series"]}


def test_fgsm_and_pgd_accuracy_match_the_closed_form_on_a_linear_model():
    # Binary logits (0, w.x + b): FGSM moves w.x + b by -eps * ||w||_1 towards the wrong class, and so does
    # PGD (the same corner of the L-inf ball is optimal, and 10 steps of 0.25 eps reach it from any start).
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(6, generator=gen)
    b = -0.5 * float(w.sum())  # margins centred on 0, so a small eps flips many
    x = 0.35 + 0.3 * torch.rand(400, 6, generator=gen)  # +-0.3 stays inside [0, 1]: no clipping
    model = binary_linear(w, b)
    y = (x @ w + b > 0).long()
    y[:40] = 1 - y[:40]  # some wrong answers, so clean accuracy is 0.9
    grid = (0.05, 0.1, 0.2, 0.3)
    (result,) = audit(model, x, y, bounds=(0.0, 1.0), eps_grid=grid, sections=["robustness"])
    margin = torch.where(y == 1, x @ w + b, -(x @ w + b))  # > 0: right
    expected = [float((margin - e * w.abs().sum() > 0).float().mean()) for e in (0.0, *grid)]
    got = curves(result)
    assert got["fgsm"] == pytest.approx(expected, abs=1e-6)
    assert got["pgd"] == pytest.approx(expected, abs=1e-6)
    assert result.metric("clean_acc") == pytest.approx(0.9)
    k = next((i for i, a in enumerate(expected) if i > 0 and a <= 0.45), len(grid))  # else the largest eps
    assert 0 < k < len(grid)  # the grid brackets the halving point, so the headline is not the fallback
    assert result.metric("headline_eps") == pytest.approx((0.0, *grid)[k])


def test_robustness_verdict_follows_its_rule():
    from limitlab.audit.robustness import judge

    base = {"clean_acc": 0.9, "chance_acc": 0.1, "headline_eps": 0.1, "acc_fgsm": 0.3, "acc_pgd": 0.2,
            "wrong_confidence_pgd": 0.9}
    assert judge(dict(base, headline_eps_fraction=0.1, pgd_halves=1.0, acc_noise=0.85)).status == "holds"
    assert judge(dict(base, headline_eps_fraction=0.15, pgd_halves=1.0, acc_noise=0.85)).status == "fails"
    assert judge(dict(base, headline_eps_fraction=0.3, pgd_halves=0.0, acc_noise=0.85)).status == "fails"
    assert judge(dict(base, headline_eps_fraction=0.05, pgd_halves=1.0, acc_noise=0.7)).status == "inconclusive"
    assert judge(dict(base, clean_acc=0.15, headline_eps_fraction=0.05, pgd_halves=1.0,
                      acc_noise=0.15)).status == "inconclusive"


@pytest.fixture(scope="module")
def overconfident():
    """A linear model whose labels are drawn from softmax(logits / 3): over-confident by a factor 3."""
    gen = torch.Generator().manual_seed(2)
    model = linear_model(4, 3, seed=3)
    x = torch.rand(1200, 4, generator=gen)
    with torch.no_grad():
        y = torch.multinomial(torch.softmax(model(x) / 3, 1), 1, generator=gen)[:, 0]
    return model, x, y


def test_calibration_scores_are_those_of_the_held_out_half(overconfident):
    model, x, y = overconfident
    (result,) = audit(model, x, y, bounds=(0.0, 1.0), sections=["calibration"], seed=5)
    fit, held = split_halves(len(y), Context(seed=5))
    assert sorted(torch.cat([fit, held]).tolist()) == list(range(len(y))) and abs(len(fit) - len(held)) <= 1
    with torch.no_grad():
        z = model(x).double()
    scaler = cal.TemperatureScaler().fit(z[fit], y[fit])
    assert result.metric("temperature") == pytest.approx(scaler.temperature_, rel=1e-6)
    assert result.metric("temperature") == pytest.approx(3.0, rel=0.25)  # the factor the labels were drawn with
    assert result.metric("ece") == pytest.approx(cal.ece(torch.softmax(z[held], 1), y[held], bins=15), abs=1e-9)
    assert result.metric("ece_ts") == pytest.approx(cal.ece(scaler.predict_proba(z[held]), y[held], bins=15), abs=1e-9)
    assert result.metric("acc_ts") == result.metric("acc")  # T keeps every argmax
    assert result.metric("ece_ts") < result.metric("ece")
    assert result.verdict == "holds" and "the remedy helps" in result.evidence


def test_a_model_without_dropout_skips_the_uncertainty_section(overconfident):
    model, x, y = overconfident
    (result,) = audit(model, x[:50], y[:50], bounds=(0.0, 1.0), sections=["uncertainty"])
    assert result.study == "audit-uncertainty" and result.verdict == "inconclusive"
    assert result.evidence.startswith("Skipped:") and "no dropout" in result.evidence and not result.metrics


def test_uncertainty_aurocs_count_the_pairs_of_wrong_and_right_predictions():
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(300, 5, generator=gen)
    y = torch.randint(0, 3, (300,), generator=gen)
    model = dropout_mlp(5, 3)
    (result,) = audit(model, x, y, bounds=(0.0, 1.0), sections=["uncertainty"], mc_samples=8)
    with torch.no_grad():
        probs = torch.softmax(model.eval()(x), 1)
    score, wrong = 1 - probs.max(1).values, probs.argmax(1) != y
    diff = score[wrong][:, None] - score[~wrong][None, :]  # every (wrong, right) pair
    expected = float((diff > 0).double().mean() + 0.5 * (diff == 0).double().mean())
    assert result.metric("auroc_max-softmax") == pytest.approx(expected, abs=1e-9)
    assert result.metric("num_wrong") == int(wrong.sum())
    assert 0 < result.metric("mean_mi") < result.metric("mean_entropy") <= torch.log(torch.tensor(3.0)).item() + 1e-6


def test_ood_scores_on_a_model_that_reads_only_the_mean_of_the_features():
    # In-distribution inputs have feature means far from 0.5 (confident); uniform noise has means near
    # 0.5 (unsure): perfectly separated. Shuffling features keeps each input's mean: inseparable.
    gen = torch.Generator().manual_seed(5)
    low = 0.2 * torch.rand(100, 32, generator=gen)
    x = torch.cat([low, 1 - low])
    y = torch.cat([torch.zeros(100), torch.ones(100)]).long()
    (result,) = audit(MeanScore(), x, y, bounds=(0.0, 1.0), sections=["ood"])
    assert result.metric("auroc_uniform-noise") == pytest.approx(1.0)
    assert result.metric("fpr95_uniform-noise") == pytest.approx(0.0)
    assert result.metric("auroc_shuffled-features") == pytest.approx(0.5, abs=1 / len(x))
    assert result.metric("fpr95_shuffled-features") >= 0.95 - 1 / len(x)
    assert "conf_glyphs" not in result.metrics  # glyphs only for 1 x 8 x 8 inputs
    assert result.verdict == "holds" and "shuffled-features" in result.evidence.split("Over-confident")[1]


def test_full_audit_of_a_zoo_cnn_on_digits_leaves_it_as_found_and_is_reproducible():
    torch.manual_seed(0)
    model = build("cnn").train()
    model.features[0].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    test = digits().test
    x, y = test.x[:120], test.y[:120]
    first = audit(model, x, y, mc_samples=4, eps_grid=(0.1, 0.3))
    assert [r.study for r in first] == ["audit-robustness", "audit-calibration", "audit-uncertainty", "audit-ood"]
    assert model.training and not model.features[0].weight.requires_grad and model.features[2].weight.requires_grad
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert "conf_glyphs" in first[3].metrics and all(r.chapter == "audit" and r.rule.startswith("Verdict") for r in first)
    again = audit(model, x, y, mc_samples=4, eps_grid=(0.1, 0.3))
    assert [{k: m.value for k, m in r.metrics.items()} for r in first] == \
           [{k: m.value for k, m in r.metrics.items()} for r in again]
    assert audit_pkg(model, x, y, mc_samples=4, eps_grid=(0.1,), sections="ood")[0].metrics == first[3].metrics


def test_results_round_trip_through_json(overconfident):
    from limitlab.result import Result

    model, x, y = overconfident
    for r in audit(model, x[:100], y[:100], bounds=(0.0, 1.0), eps_grid=(0.1,)):
        assert Result.from_json(r.to_json()).to_dict() == r.to_dict()
