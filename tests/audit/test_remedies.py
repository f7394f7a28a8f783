"""The remedies section: numbers against a direct evaluation (by counting, and the closed-form attack on a linear
model) of the user's model and of the fine-tuned copy; the user's model untouched; left out without --train."""
import pytest
import torch

from limitlab.attacks.restarts import pgd_restarts
from limitlab.audit import Options, audit, build_subject
from limitlab.audit.hardening import Remedies
from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from tests.audit import cases


def remedies(model, x, y, **options):
    return audit(model, x, y, preset="tiny", sections="remedies", **options)["remedies"]


def fine_tuned(model, x, y, train, preset="tiny", **settings):
    """The section's fine-tuned copy, made again here (the training is deterministic for a seed)."""
    s = build_subject(model, x, y, options=Options(train=train))
    return Remedies.configure(preset=preset, overrides=settings).fine_tune(s, s.train, Context(seed=0))


def test_numbers_before_and_after_against_the_closed_form_attack_on_a_linear_model(cancer):
    lin, x, y = cancer
    train = cases.breast_cancer()[:2]
    state, mode = {k: v.clone() for k, v in lin.state_dict().items()}, lin.training
    r = remedies(lin, x, y, train=train)
    assert all(torch.equal(state[k], v) for k, v in lin.state_dict().items())
    assert all(p.requires_grad for p in lin.parameters()) and lin.training == mode
    tuned, steps = fine_tuned(lin, x, y, train)
    after = tuned.inner.model  # FromUnit(Adapted(the Linear copy)): the copy in raw units
    assert after is not lin and r.metric("steps") == steps == 6 and r.metric("num_train") == 369  # 1 epoch of 64s
    lo, hi, n = x.amin(0), x.amax(0), len(y)
    for tag, model in (("before", lin), ("after", after)):
        with torch.no_grad():
            clean = model(x).argmax(1) == y
        robust = int((clean & cases.linear_worst_case(model, x, y, lo=lo, hi=hi, eps=0.1)).sum())
        assert r.metric(f"clean_{tag}") == int(clean.sum()) / n
        assert r.metric(f"pgd_{tag}") * n == pytest.approx(robust, abs=1)  # PGD reaches the optimum
        assert r.metric(f"worst_{tag}") * n == pytest.approx(robust, abs=1)  # and Square cannot beat it
    for a in ("clean", "pgd", "worst"):
        assert r.metric(f"gain_{a}") == pytest.approx(r.metric(f"{a}_after") - r.metric(f"{a}_before"))


def test_a_digits_mlp_fine_tuned_on_its_training_data_gains_robust_accuracy(mlp):
    x, y = cases.digits_xy("test")
    train = cases.digits_xy("train")
    state = {k: v.clone() for k, v in mlp.state_dict().items()}
    settings = {"epochs": 5, "max_steps": 85}
    r = audit(mlp, x, y, preset="tiny", sections="remedies", bounds=(0.0, 1.0), train=train,
              settings={f"remedies.{k}": v for k, v in settings.items()})["remedies"]
    assert all(torch.equal(state[k], v) for k, v in mlp.state_dict().items())
    tuned, _ = fine_tuned(mlp, x, y, train, **settings)
    gen = Context(seed=0).generator("remedies", "pgd")
    with torch.no_grad():
        clean = tuned(x).argmax(1) == y  # bounds (0, 1): the unit box is the input space itself
    adv = pgd_restarts(tuned, x, y, eps=0.1, steps=5, restarts=1, generator=gen)
    with torch.no_grad():
        robust = clean & (tuned(adv).argmax(1) == y)
    assert r.metric("clean_after") == int(clean.sum()) / len(y) and r.metric("pgd_after") == int(robust.sum()) / len(y)
    assert r.verdict == "holds" and r.labels["holds"][0] == "helps"
    assert r.metrics["gain_pgd"].interval[0] > 0 and r.metrics["gain_worst"].interval[0] > 0
    assert r.advice.startswith("Adversarial training works on this model: 85 steps at eps 0.1")
    assert [p["kind"] for p in r.figures[0].panels] == ["bars"]


def test_without_training_data_it_is_left_out_named_and_an_error_to_ask_for(mlp):
    x, y = cases.digits_xy("test")
    s = build_subject(mlp, x, y)
    assert Remedies.missing(s) == "needs --train FILE (labelled training inputs to fine-tune on)"
    report = audit(mlp, x[:60], y[:60], preset="tiny", sections=None, bounds=(0.0, 1.0),
                   settings={"robustness.eps_grid": (0.1,), "robustness.square_queries": 2})
    assert "audit-remedies" not in [r.study for r in report]
    assert report.subject["not_run"]["remedies"] == Remedies.missing(s)
    with pytest.raises(ConfigError, match="section 'remedies' cannot run on this model and data: needs --train"):
        remedies(mlp, x, y)


def test_a_model_without_an_input_gradient_is_not_fine_tuned(thresholded):
    x, y = cases.raw_digits("test")
    r = remedies(thresholded, x, y, train=cases.raw_digits("train"))
    assert r.verdict == "inconclusive" and "no gradient" in r.evidence and "steps" not in r.metrics
    assert "straight-through" in r.advice


def test_a_normalized_batchnorm_cnn_in_train_mode_is_fine_tuned_as_a_copy(bn_cnn):
    x, y = cases.color_images(120, 1)
    state = {k: v.clone() for k, v in bn_cnn.state_dict().items()}
    r = remedies(bn_cnn, x, y, normalize=(*cases.MEAN, *cases.STD), train=cases.color_images(200, 0))
    assert bn_cnn.training and all(torch.equal(state[k], v) for k, v in bn_cnn.state_dict().items())
    assert r.verdict != "error" and r.metric("steps") == 4  # 200 inputs in batches of 64, one epoch


def masked(gain_pgd, gain_worst):
    return MetricValues({"nondeterministic_share": Metric(0.0), "gradient_path": Metric(1.0), "steps": Metric(8),
                         "num_train": Metric(100), "gain_pgd": Metric(gain_pgd[0], interval=list(gain_pgd)),
                         "gain_worst": Metric(gain_worst[0], interval=list(gain_worst))})


@pytest.mark.parametrize("pgd, worst, verdict, words", [
    ((0.2, 0.3), (0.1, 0.2), "holds", "It helps"),
    ((0.2, 0.3), (-0.02, 0.0), "fails", "Square takes the PGD gain back: masked gradients"),
    ((-0.05, 0.0), (-0.05, 0.0), "fails", "Robust accuracy does not rise"),
    ((0.01, 0.1), (-0.01, 0.05), "inconclusive", "straddles 0"),
])
def test_the_rule_a_gradient_masking_remedy_does_not_pass(pgd, worst, verdict, words):
    v = Remedies().judge(masked(pgd, worst))
    assert v.status == verdict and words in v.evidence
    if "masked" in words:
        assert "masked the gradients" in Remedies().advise(v, masked(pgd, worst))
