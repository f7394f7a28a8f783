"""Random-noise controls: exact sizes before clipping, clipping to the bounds, seeded draws."""
import math

import pytest
import torch

from limitlab.attacks.noise import random_l2, random_sign
from limitlab.errors import ConfigError, DataError


def test_sign_noise_moves_every_pixel_by_exactly_eps():
    x = torch.full((16, 1, 8, 8), 0.5)
    delta = random_sign(x, eps=0.1, generator=torch.Generator().manual_seed(0)) - x
    torch.testing.assert_close(delta.abs(), torch.full_like(x, 0.1))
    assert 0.4 < float((delta > 0).float().mean()) < 0.6  # both signs, about half each


def test_l2_noise_has_length_eps_and_a_random_direction():
    x = torch.full((32, 1, 8, 8), 0.5)
    delta = random_l2(x, eps=0.05 * math.sqrt(64), generator=torch.Generator().manual_seed(0)) - x
    torch.testing.assert_close(delta.flatten(1).norm(dim=1), torch.full((32,), 0.4))
    cos = torch.nn.functional.cosine_similarity(delta[:16].flatten(1), delta[16:].flatten(1))
    assert float(cos.abs().mean()) < 0.3  # independent directions in 64 dimensions are nearly orthogonal


def test_noise_is_clipped_to_the_bounds_and_seeded():
    x = torch.tensor([[[[0.0, 1.0]]]]).repeat(50, 1, 1, 1)
    out = random_sign(x, eps=0.3, bounds=(0.0, 1.0), generator=torch.Generator().manual_seed(1))
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    again = random_sign(x, eps=0.3, bounds=(0.0, 1.0), generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, again)


def test_bad_arguments_raise_one_line_errors():
    with pytest.raises(ConfigError, match="eps=-1"):
        random_l2(torch.zeros(2, 1, 8, 8), eps=-1)
    with pytest.raises(DataError, match="floating-point"):
        random_sign(torch.zeros(2, 1, 8, 8, dtype=torch.long), eps=0.1)


def test_per_feature_bounds_clip_each_feature():
    x = torch.tensor([[0.0, 10.0]] * 50)
    out = random_sign(x, eps=3.0, bounds=(torch.tensor([0.0, 9.0]), torch.tensor([1.0, 12.0])),
                      generator=torch.Generator().manual_seed(0))
    assert set(out[:, 0].tolist()) == {0.0, 1.0} and set(out[:, 1].tolist()) == {9.0, 12.0}


def test_a_number_beside_a_tensor_bound_clips_too():
    # Regression: torch.clamp takes two numbers or two tensors, so (0.0, tensor) used to raise a TypeError.
    x = torch.tensor([[0.0, 10.0]] * 50)
    out = random_sign(x, eps=3.0, bounds=(0.0, torch.tensor([1.0, 12.0])), generator=torch.Generator().manual_seed(0))
    assert set(out[:, 0].tolist()) == {0.0, 1.0} and set(out[:, 1].tolist()) == {7.0, 12.0}
    out = random_l2(x, eps=3.0, bounds=(torch.tensor([-1.0, 9.0]), 11.0), generator=torch.Generator().manual_seed(0))
    assert float(out[:, 0].min()) >= -1 and float(out[:, 1].min()) >= 9 and float(out.max()) <= 11
