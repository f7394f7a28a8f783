import numpy as np
import pytest
import torch

from limitlab.data.corrupt import corrupt_labels, gaussian_inputs, pixel_permutation, random_pixels, shuffle_pixels
from limitlab.errors import ConfigError, DataError


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.37, 0.5, 1.0])
def test_corrupt_labels_replaces_exactly_the_requested_fraction(fraction):
    y = torch.arange(1000) % 10
    new, replaced = corrupt_labels(y, fraction=fraction, num_classes=10, rng=np.random.default_rng(0))
    assert int(replaced.sum()) == round(fraction * 1000)
    assert torch.equal(new[~replaced], y[~replaced])  # the others are untouched
    assert new.dtype == y.dtype and int(new.min()) >= 0 and int(new.max()) <= 9


def test_random_labels_are_uniform_and_independent_of_the_true_ones():
    y = torch.arange(20000) % 10
    new, _ = corrupt_labels(y, fraction=1.0, num_classes=10, rng=np.random.default_rng(1))
    counts = torch.bincount(new, minlength=10).float() / len(y)
    assert torch.all((counts - 0.1).abs() < 0.01)
    # Independent of the old label: ~1/10 agree by chance (binomial sd 0.002), per class too.
    assert abs(float((new == y).float().mean()) - 0.1) < 0.01
    joint = torch.bincount(y * 10 + new, minlength=100).view(10, 10).float() / len(y)
    assert torch.all((joint - 0.01).abs() < 0.004)


def test_corrupt_labels_is_reproducible_and_checks_its_input():
    y = torch.arange(100) % 10
    a = corrupt_labels(y, fraction=0.5, num_classes=10, rng=np.random.default_rng(3))
    b = corrupt_labels(y, fraction=0.5, num_classes=10, rng=np.random.default_rng(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ConfigError, match="fraction=1.5"):
        corrupt_labels(y, fraction=1.5, num_classes=10, rng=np.random.default_rng(0))


def test_shuffled_pixels_use_one_fixed_permutation():
    x = torch.rand(5, 1, 8, 8)
    perm = pixel_permutation(x, np.random.default_rng(0))
    out = shuffle_pixels(x, perm)
    for i in range(5):  # every image re-wired the same way: out[i] at position j is x[i] at perm[j]
        assert torch.equal(out[i].flatten(), x[i].flatten()[perm])
    same = shuffle_pixels(x[:1].repeat(3, 1, 1, 1), perm)
    assert torch.equal(same[0], same[1]) and torch.equal(same[1], same[2])
    assert not torch.equal(out, x)
    inverse = torch.argsort(perm)
    assert torch.equal(shuffle_pixels(out, inverse), x)
    with pytest.raises(DataError, match="permutation has shape"):
        shuffle_pixels(x, perm[:10])


def test_random_pixels_permute_each_image_differently():
    x = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8).repeat(6, 1, 1, 1)
    out = random_pixels(x, np.random.default_rng(0)).flatten(1)
    for row in out:  # each is a permutation of the same pixels
        assert torch.equal(row.sort().values, torch.arange(64, dtype=torch.float32))
    distinct = {tuple(row.tolist()) for row in out}
    assert len(distinct) == 6  # identical inputs, six different permutations
    assert not torch.equal(out[0], torch.arange(64, dtype=torch.float32))


def test_gaussian_inputs_match_mean_and_std():
    x = torch.rand(400, 1, 8, 8) * 0.5
    g = gaussian_inputs(x, np.random.default_rng(0))
    assert g.shape == x.shape and g.dtype == torch.float32
    assert abs(float(g.mean()) - float(x.mean())) < 0.01
    assert abs(float(g.std()) - float(x.std())) < 0.01
    h = gaussian_inputs(x, np.random.default_rng(1), mean=2.0, std=0.5)
    assert abs(float(h.mean()) - 2.0) < 0.02 and abs(float(h.std()) - 0.5) < 0.02
