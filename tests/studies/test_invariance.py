"""The invariance study: the augmentation hook, the nuisances, the tiny run, the verdict rule."""
import dataclasses

import pytest
import torch

from limitlab.context import Context
from limitlab.data.arrays import ArrayDataset
from limitlab.data.augment import ShiftAugment
from limitlab.data.nuisances import gallery, nuisance
from limitlab.errors import ConfigError
from limitlab.models.nuisance_sweep import correct_under
from limitlab.result import Metric, MetricValues
from limitlab.studies.invariance import MIN_AUG_MODELS, Invariance, InvarianceConfig


def test_shift_augmentation_moves_each_image_by_whole_pixels_within_range():
    x = torch.zeros(40, 1, 8, 8)
    x[:, 0, 3, 4] = 1.0  # one lit pixel at row 3, column 4
    out, y = ShiftAugment(2)(torch.nn.Identity(), x, torch.zeros(40, dtype=torch.long),
                             torch.Generator().manual_seed(0))
    moves = set()
    for img in out[:, 0]:
        assert float(img.max()) == pytest.approx(1.0, abs=1e-5) and float(img.sum()) == pytest.approx(1.0, abs=1e-5)
        r, c = divmod(int(img.argmax()), 8)
        assert abs(r - 3) <= 2 and abs(c - 4) <= 2
        moves.add((r - 3, c - 4))
    assert len(moves) > 5  # different images, different shifts


def test_nuisances():
    x = torch.rand(4, 1, 8, 8)
    gen = torch.Generator().manual_seed(0)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(nuisance("contrast", x, -1.0, gen), (2 * mean - x).clamp(0, 1))  # inverted about the mean
    for name, clean in (("shift", 0.0), ("rotation", 0.0), ("scale", 1.0), ("noise", 0.0), ("contrast", 1.0)):
        assert torch.allclose(nuisance(name, x, clean, gen), x, atol=1e-6)  # the clean level is the identity
    noisy = nuisance("noise", torch.full((1, 1, 64, 64), 0.5), 0.1, gen)
    assert float(noisy.std()) == pytest.approx(0.1, rel=0.1)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    study = Invariance.configure(preset="tiny")
    return study, study.run(Context(seed=0, threads=1))


def test_tiny_run_numbers_hang_together(tiny):
    study, result = tiny
    m = result.metrics
    for name in ("mlp", "cnn", "cnn+shift-aug"):  # the clean level is the same test set in every panel
        assert m[f"acc_{name}_shift_0"].value == pytest.approx(m[f"acc_{name}_rotation_0"].value)
        assert m[f"acc_{name}_shift_0"].value == pytest.approx(m[f"acc_{name}_contrast_1"].value)
        assert len(m[f"acc_{name}_shift_0"].values) == study.config.num_seeds
    assert m["acc_cnn_shift_0"].value > 0.5
    per_model = m["acc_cnn+shift-aug_contrast_-1"].values  # the augmented models' range, for the evidence
    assert (m["aug_contrast_lo"].value, m["aug_contrast_hi"].value) == (min(per_model), max(per_model))
    assert len(per_model) == study.config.num_aug_seeds
    panel = {f.id: f for f in result.figures}["accuracy-vs-nuisance"].panels[0]
    assert panel["series"][1]["y"] == pytest.approx([m[f"acc_cnn_shift_{s:g}"].value for s in study.config.shifts])


def test_config_is_checked():
    with pytest.raises(ConfigError, match="clean level"):
        InvarianceConfig(shifts=(1.0, 2.0))
    with pytest.raises(ConfigError, match="num_seeds"):
        InvarianceConfig(num_seeds=1)
    with pytest.raises(ConfigError, match="aug_shift=3"):
        InvarianceConfig(shifts=(0.0, 1.0, 2.0), aug_shift=3)


def test_verdict_rule():
    cfg = InvarianceConfig(shifts=(0.0, 1.0, 3.0), rotations=(0.0, 45.0), scales=(1.0, 0.6), noises=(0.0, 0.3),
                           contrasts=(1.0, -1.0), aug_shift=1, num_aug_seeds=MIN_AUG_MODELS)
    study = Invariance(cfg)
    base = {f"drop_cnn_{nu}": Metric(0.6, noise=0.04) for nu in ("shift", "rotation", "scale", "contrast")}
    base.update(pooling_gain=Metric(0.3, noise=0.04), aug_gain_shift=Metric(0.7, noise=0.04),
                aug_gain_rotation=Metric(-0.01, noise=0.03), aug_gain_contrast=Metric(0.0, noise=0.02))
    judge = lambda **changes: study.judge(MetricValues({**base, **changes}))  # noqa: E731
    assert judge().status == "holds"
    assert judge(drop_cnn_rotation=Metric(0.1, noise=0.04)).status == "fails"  # rotation did not break the CNN
    assert judge(drop_cnn_rotation=Metric(0.22, noise=0.04)).status == "inconclusive"  # 0.2 only inside the noise
    assert judge(aug_gain_shift=Metric(0.15, noise=0.04)).status == "fails"  # augmentation did not help
    assert judge(aug_gain_contrast=Metric(0.25, noise=0.04)).status == "inconclusive"  # helped beyond its nuisance
    assert judge(aug_gain_contrast=Metric(0.08, noise=0.04)).status == "inconclusive"  # < 0.1, but inside the noise
    assert judge(pooling_gain=Metric(0.02, noise=0.04)).status == "inconclusive"  # pooling bought nothing
    assert judge(aug_gain_contrast=Metric(None)).status == "inconclusive"
    # The mean gain over the augmented models against the standard error of that mean: 6 points +- 5 is not shown
    # below 10 (the first runs' typical case), 3 points +- 5 is, and seed 1's 12.1 points is above the bar.
    assert judge(aug_gain_contrast=Metric(0.06, noise=0.05)).status == "inconclusive"
    assert judge(aug_gain_contrast=Metric(0.03, noise=0.05)).status == "holds"
    above = judge(aug_gain_contrast=Metric(0.121, noise=0.05))
    assert above.status == "inconclusive" and "+12.1% +- 5.0% at contrast -1" in above.evidence
    assert "Not shown: only-covered (within the noise of its threshold)." in above.evidence
    beyond = judge(aug_gain_shift=Metric(0.15, noise=0.04)).evidence
    assert "covered does not hold, beyond the noise." in beyond and "Not shown" not in beyond
    assert study.judge(MetricValues({})).status == "inconclusive"
    # Too few augmented CNNs to decide "only-covered" on every seed (the docstring's power analysis): reported, not
    # judged, so the claim is at most inconclusive; a decisive part still fails it.
    few = Invariance(dataclasses.replace(cfg, num_aug_seeds=MIN_AUG_MODELS - 1))
    verdict = few.judge(MetricValues(base))
    assert verdict.status == "inconclusive" and "+0.0% +- 2.0% at contrast -1" in verdict.evidence
    assert f"Not judged: only-covered needs {MIN_AUG_MODELS} augmented CNNs" in verdict.evidence
    assert f"this run trained {MIN_AUG_MODELS - 1}" in verdict.evidence
    assert few.judge(MetricValues({**base, "aug_gain_shift": Metric(0.15, noise=0.04)})).status == "fails"


def test_gains_are_read_above_chance(tiny):
    study, result = tiny
    m = {k: v.value for k, v in result.metrics.items()}
    above = lambda acc: max(acc - 0.1, 0.0)  # noqa: E731
    # the case: below chance (systematically wrong) to chance is no gain; per seed, then averaged
    per_seed = [above(a) - above(b) for a, b in zip(result.metrics["acc_cnn+shift-aug_contrast_-1"].values,
                                                    result.metrics["acc_cnn_contrast_-1"].values)]
    assert m["aug_gain_contrast"] == pytest.approx(sum(per_seed) / len(per_seed))
    assert m["drop_cnn_shift"] == pytest.approx(
        sum(above(a) - above(b) for a, b in zip(result.metrics["acc_cnn_shift_0"].values,
                                                result.metrics["acc_cnn_shift_3"].values)) / study.config.num_seeds)
    # The floor is the larger of the digits' and the replicas' (paired within the CNN: two standard errors of the
    # per-replica drops); the tiny preset trains two of each.
    drops = [above(a) - above(b) for a, b in zip(result.metrics["acc_cnn_shift_0"].values,
                                                 result.metrics["acc_cnn_shift_3"].values)]
    assert result.metrics["drop_cnn_shift"].noise >= 2 * abs(drops[0] - drops[1]) / 2 ** 0.5 / 2 ** 0.5 - 1e-12
    assert result.metrics["drop_cnn_shift"].noise > 0


def test_correct_under_scores_each_model_on_each_transformed_set_and_gallery_shows_every_level():
    x = torch.rand(30, 1, 8, 8)
    y = torch.arange(30) % 10
    models = {"a": torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), "b": torch.nn.Flatten()}
    torch.nn.init.normal_(models["a"][1].weight)
    data = ArrayDataset(x, y, "toy", 10, (0.0, 1.0))
    grids = {"contrast": (1.0, -1.0), "noise": (0.0, 0.3)}
    out = correct_under(models, data, grids, generator=lambda nu, level: torch.Generator().manual_seed(7))
    for nu, grid in grids.items():
        for j, level in enumerate(grid):  # the same transformed set, made independently here
            xt = nuisance(nu, x, level, torch.Generator().manual_seed(7))
            for k, model in models.items():
                expected = (model(xt).argmax(1) == y).double()
                assert torch.equal(out[nu][k][j], expected) and out[nu][k].shape == (len(grid), 30)
    images, labels = gallery(x[:1], grids)
    assert images.shape == (4, 8, 8) and labels == ["contrast 1", "contrast -1", "noise 0", "noise 0.3"]
    assert torch.allclose(images[1], nuisance("contrast", x[:1], -1.0, torch.Generator())[0, 0])
