"""The invariance study: the augmentation hook, the nuisances, the tiny run, the verdict rule."""
import pytest
import torch

from limitlab.context import Context
from limitlab.data.augment import ShiftAugment
from limitlab.data.nuisances import nuisance
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.invariance import Invariance, InvarianceConfig


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
                           contrasts=(1.0, -1.0), aug_shift=1)
    study = Invariance(cfg)
    m = {}
    for name in ("mlp", "cnn", "cnn+shift-aug"):
        m.update({f"acc_{name}_shift_0": 0.95, f"acc_{name}_rotation_0": 0.95, f"acc_{name}_scale_1": 0.95,
                  f"acc_{name}_contrast_1": 0.95, f"acc_{name}_rotation_45": 0.3, f"acc_{name}_scale_0.6": 0.3,
                  f"acc_{name}_contrast_-1": 0.1, f"acc_{name}_shift_1": 0.6, f"acc_{name}_shift_3": 0.2})
    m["acc_mlp_shift_1"] = 0.4
    m["acc_cnn+shift-aug_shift_1"] = 0.9  # "covered" is judged at the augmentation's range, 1 px here
    judge = lambda values: study.judge(MetricValues({k: Metric(v) for k, v in values.items()}))  # noqa: E731
    assert judge(m).status == "holds"
    assert judge({**m, "acc_cnn_rotation_45": 0.8}).status == "fails"  # rotation did not break the CNN
    assert judge({**m, "acc_cnn+shift-aug_shift_1": 0.75}).status == "fails"  # augmentation did not help (+0.15)
    assert judge({**m, "acc_cnn+shift-aug_contrast_-1": 0.25}).status == "inconclusive"  # helped beyond
    assert judge({**m, "acc_mlp_shift_1": 0.58}).status == "inconclusive"  # pooling bought nothing
    assert judge({**m, "acc_cnn+shift-aug_contrast_-1": None}).status == "inconclusive"
    assert study.judge(MetricValues({})).status == "inconclusive"
