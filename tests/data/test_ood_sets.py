"""OOD sets: uniform noise in each feature's own range, shuffled values, glyphs only for 8x8 images."""
import torch

from limitlab.data.ood_sets import ood_sets


def test_noise_lies_in_each_features_own_bounds_and_shuffles_are_permutations():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(50, 3, generator=gen) * torch.tensor([1.0, 10.0, 1000.0])
    lo, hi = x.amin(0), x.amax(0)
    sets = ood_sets(x, lo=lo, hi=hi, num=40, generator=torch.Generator().manual_seed(1))
    noise = sets["uniform-noise"]
    assert noise.shape == (40, 3) and bool(((noise >= lo) & (noise <= hi)).all())
    assert float(noise[:, 0].std()) < 5 < float(noise[:, 2].std())  # each feature at its own scale
    shuffled = sets["shuffled-features"]
    originals = {tuple(sorted(row.tolist())) for row in x}
    assert all(tuple(sorted(row.tolist())) in originals for row in shuffled)
    assert "glyphs" not in sets


def test_glyphs_for_8x8_images_in_the_unit_range():
    x = torch.rand(30, 1, 8, 8)
    sets = ood_sets(x, lo=0.0, hi=1.0, num=20, generator=torch.Generator().manual_seed(0))
    assert sets["glyphs"].shape == (20, 1, 8, 8) and set(sets) == {"uniform-noise", "shuffled-features", "glyphs"}
