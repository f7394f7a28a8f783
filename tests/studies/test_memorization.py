"""The memorization study: arms built as specified, the tiny run memorizes, the verdict rule as documented."""
import pytest
import torch

from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.digits import digits_heldout
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.memorization import Memorization, MemorizationConfig


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    study = Memorization.configure(preset="tiny")
    return study, study.run(Context(seed=0, threads=1))


def test_tiny_run_fits_random_labels_and_generalizes_at_chance(tiny):
    study, result = tiny
    m = {k: v.value for k, v in result.metrics.items()}
    for arm in study.config.arms():  # every arm fitted within the cap, and the step count is recorded
        assert m[f"mlp_{arm}_train_acc"] >= 0.999 and m[f"mlp_{arm}_steps"] is not None
    assert m["mlp_labels-1_test_acc"] <= 0.2  # 720 held-out digits: chance is 0.1 +- 0.011
    assert m["mlp_labels-0_test_acc"] >= 0.8
    assert m["mlp_slowdown"] == pytest.approx(m["mlp_labels-1_steps"] / m["mlp_labels-0_steps"])
    assert len(result.metrics["mlp_labels-1_test_acc"].values) == study.config.num_seeds
    # The steps panel plots exactly the step metrics (means over seeds).
    steps = {f.id: f for f in result.figures}["corruption"].panels[1]["series"][0]
    assert steps["y"] == [m[f"mlp_labels-{p:g}_steps"] for p in study.config.corruptions]


def test_arms_corrupt_what_they_say():
    study, ctx, data = Memorization(MemorizationConfig(num_train=300)), Context(seed=0), digits()
    train, test = study.arm_data("labels-1", 0, ctx)
    held = digits_heldout()  # the validation and test digits: no run stops early
    assert len(test) == len(data.val) + len(data.test) == 720
    assert torch.equal(train.x, data.train.x[:300]) and torch.equal(test.y, held.y)
    assert 0.8 < float((train.y != data.train.y[:300]).float().mean()) < 0.98  # ~90% differ by chance
    train, test = study.arm_data("labels-0", 0, ctx)
    assert torch.equal(train.y, data.train.y[:300])
    train, test = study.arm_data("shuffled-pixels", 0, ctx)
    assert torch.equal(train.y, data.train.y[:300])
    assert torch.equal(train.x.flatten(1).sort(1).values, data.train.x[:300].flatten(1).sort(1).values)
    flat_tr, flat_te = data.train.x[:300].flatten(1), held.x.flatten(1)
    same = [(train.x.flatten(1)[:, j:j + 1] == flat_tr).all(0) for j in range(64)]
    same_te = [(test.x.flatten(1)[:, j:j + 1] == flat_te).all(0) for j in range(64)]
    for j in range(64):  # output pixel j copies one input pixel, the same one in train and test
        assert bool((same[j] & same_te[j]).any())
    train, _ = study.arm_data("gaussian", 0, ctx)
    assert abs(float(train.x.mean()) - float(data.train.x[:300].mean())) < 0.01


def test_each_seed_draws_its_own_corruption():
    study, ctx = Memorization(MemorizationConfig(num_train=300)), Context(seed=0)
    for arm in ("labels-1", "shuffled-pixels", "random-pixels", "gaussian"):
        (a, _), (b, _), (a2, _) = (study.arm_data(arm, k, ctx) for k in (0, 1, 0))
        assert torch.equal(a.x, a2.x) and torch.equal(a.y, a2.y)  # reproducible
        assert not (torch.equal(a.x, b.x) and torch.equal(a.y, b.y))  # but another seed is another draw


def test_config_is_checked():
    with pytest.raises(ConfigError, match="cnn_arms"):
        MemorizationConfig(cnn_arms=("labels-0.3",))
    with pytest.raises(ConfigError, match="pixel_arms"):
        MemorizationConfig(pixel_arms=("blur",))
    with pytest.raises(ConfigError, match="increasing"):
        MemorizationConfig(corruptions=(0.5, 0.0))


def _metrics(config, *, test, steps):
    m = {}
    for model, arm in [("mlp", a) for a in config.arms()] + [("cnn", a) for a in config.cnn_arms]:
        m[f"{model}_{arm}_steps"] = steps.get(arm, 100.0)
        acc = test.get(arm, 0.5)
        m[f"{model}_{arm}_test_acc"] = Metric(acc, noise=2 * (acc * (1 - acc) / 720) ** 0.5)
        m[f"{model}_{arm}_train_acc"] = 1.0
    return MetricValues({k: v if isinstance(v, Metric) else Metric(v) for k, v in m.items()})


def test_verdict_rule():
    cfg = MemorizationConfig(corruptions=(0.0, 0.5, 1.0), pixel_arms=(), cnn_arms=())
    study = Memorization(cfg)
    good = {"labels-0": 0.95, "labels-0.5": 0.6, "labels-1": 0.1}
    assert study.judge(_metrics(cfg, test=good, steps={})).status == "holds"
    # Random labels not fitted within the cap: capacity did not suffice.
    assert study.judge(_metrics(cfg, test=good, steps={"labels-1": None})).status == "fails"
    # Random labels generalize above chance + 0.05 beyond the binomial noise: fails; within the noise of 0.15 on
    # either side: not shown, never a measured failure.
    assert study.judge(_metrics(cfg, test={**good, "labels-1": 0.3}, steps={})).status == "fails"
    assert study.judge(_metrics(cfg, test={**good, "labels-1": 0.16}, steps={})).status == "inconclusive"
    assert study.judge(_metrics(cfg, test={**good, "labels-1": 0.13}, steps={})).status == "inconclusive"  # 0.02 < 2 SE
    # True labels do not generalize: inconclusive.
    assert study.judge(_metrics(cfg, test={**good, "labels-0": 0.79}, steps={})).status == "inconclusive"
    # Test accuracy rising with corruption by more than 0.03: inconclusive.
    assert study.judge(_metrics(cfg, test={**good, "labels-0.5": 0.99}, steps={})).status == "inconclusive"
    # Nothing measured: not a failure to fit, and never "holds".
    assert study.judge(MetricValues({})).status == "inconclusive"
