"""The OOD image sets: in bounds, of the asked size, each from its own stream, inverted digits exact."""
import pytest
import torch

from limitlab.context import Context
from limitlab.data import digits
from limitlab.data.digit_ood import OOD_SETS, blobs, ood_sets
from limitlab.errors import ConfigError


def test_blobs_are_in_bounds_with_unit_peak():
    b = blobs(50, torch.Generator().manual_seed(0))
    assert b.shape == (50, 1, 8, 8) and float(b.min()) >= 0
    torch.testing.assert_close(b.flatten(1).max(1).values, torch.ones(50))


def test_every_set_has_num_images_in_bounds_and_inverted_digits_are_exact():
    test_x = digits().test.x
    sets = ood_sets(test_x, num=20, rotation=90.0, generator=Context(seed=3).generator)
    assert list(sets) == list(OOD_SETS)
    for name, x in sets.items():
        assert x.shape == (20, 1, 8, 8) and float(x.min()) >= 0 and float(x.max()) <= 1, name
    # Inverted and rotated digits are the same 20 test digits: 1 - x, and x rotated (same total ink, roughly).
    pick = torch.randperm(len(test_x), generator=Context(seed=3).generator("ood-pick"))[:20]
    torch.testing.assert_close(sets["inverted"], 1 - test_x[pick])
    # Changing one set's stream leaves the others as they were.
    again = ood_sets(test_x, num=20, rotation=45.0, generator=Context(seed=3).generator)
    assert torch.equal(again["noise"], sets["noise"]) and not torch.equal(again["rotated"], sets["rotated"])


def test_num_is_checked():
    with pytest.raises(ConfigError, match="num=0"):
        ood_sets(digits().test.x, num=0, rotation=90.0, generator=Context().generator)
