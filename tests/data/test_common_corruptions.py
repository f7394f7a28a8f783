"""The common corruptions by hand: closed forms, counts, and the draws of a named generator."""
import numpy as np
import pytest
import torch

from limitlab.data import common_corruptions as cc
from limitlab.errors import ConfigError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_every_image_corruption_stays_in_the_box_and_is_seeded():
    u = torch.rand(6, 3, 10, 12, generator=gen(1))
    for name in cc.IMAGE:
        for level in range(1, 6):
            a = cc.corrupt(u, name, level, generator=gen())
            assert a.shape == u.shape and float(a.min()) >= 0 and float(a.max()) <= 1, name
            assert torch.equal(a, cc.corrupt(u, name, level, generator=gen())), name
            assert not torch.equal(a, u), name


def test_batches_draw_what_one_pass_draws_and_the_normal_draws_are_scipys():
    u = torch.rand(37, 3, 8, 8, generator=gen(8))
    for name in cc.IMAGE:  # 37 x 192 values: torch.randn would differ here between one pass and two batches
        g = gen(9)
        parts = torch.cat([cc.corrupt(u[:20], name, 4, generator=g), cc.corrupt(u[20:], name, 4, generator=g)])
        assert torch.equal(parts, cc.corrupt(u, name, 4, generator=gen(9))), name
    z = cc.standard_normal((200_000,), generator=gen(10))
    from scipy.stats import norm

    expected = norm.ppf(torch.rand((200_000,), generator=gen(10), dtype=torch.float64).numpy())
    np.testing.assert_allclose(z.numpy(), expected, rtol=1e-9, atol=1e-12)
    assert abs(float(z.mean())) < 0.01 and float(z.std()) == pytest.approx(1.0, abs=0.01)


def test_photometric_corruptions_by_hand():
    u = torch.rand(4, 1, 8, 8, generator=gen(2))
    torch.testing.assert_close(cc.corrupt(u, "brightness", 3), (u + 0.15).clamp(0, 1))
    mean = u.mean(dim=(1, 2, 3), keepdim=True)
    torch.testing.assert_close(cc.corrupt(u, "contrast", 5), mean + 0.15 * (u - mean))
    noisy = cc.corrupt(torch.full((2000, 1, 8, 8), 0.5), "gaussian-noise", 5, generator=gen())
    assert float(noisy.std()) == pytest.approx(0.10, rel=0.02)  # std 0.10 of the range at severity 5


def test_geometric_corruptions_draw_one_sign_per_image_from_the_generator():
    u = torch.zeros(2, 1, 20, 20)
    u[:, :, 8:12, 8:12] = 1.0
    shifted = cc.corrupt(u, "shift", 5, generator=gen(3))  # 10% of 20 pixels = 2 pixels along each axis
    dx, dy = (torch.randint(0, 2, (2, 2), generator=gen(3)).float() * 2 - 1).T  # per image: dx's sign, dy's
    for k in range(2):
        expected = torch.roll(u[k, 0], shifts=(int(2 * dy[k]), int(2 * dx[k])), dims=(0, 1))
        torch.testing.assert_close(shifted[k, 0], expected, atol=1e-5, rtol=0)
    rotated = cc.corrupt(torch.rand(50, 1, 9, 9, generator=gen(4)), "rotation", 2, generator=gen(5))
    assert not torch.equal(rotated, cc.corrupt(torch.rand(50, 1, 9, 9, generator=gen(4)), "rotation", 2,
                                               generator=gen(6)))  # the signs come from the generator


def test_blur_scales_with_the_image_side():
    u = torch.zeros(1, 1, 64, 64)
    u[0, 0, 32, 32] = 1.0  # a point: its blur is the kernel, whose variance is sigma^2
    out = cc.corrupt(u, "blur", 5)[0, 0].double()
    t = torch.arange(64, dtype=torch.float64) - 32
    var = float((out.sum(1) * t ** 2).sum() / out.sum())
    assert var == pytest.approx((1.0 * 64 / 32) ** 2, rel=0.01)  # CIFAR-10-C's 1 pixel per 32 -> 2 pixels at 64


def test_missing_values_replace_exactly_that_many_features_per_input_by_the_mean():
    u = torch.rand(500, 10, generator=gen(7)) * 0.5 + 0.5  # values in [0.5, 1): the mean below is never one
    mean = torch.full((10,), 0.1)
    for level, fraction in enumerate(cc.TABLE["missing-values"], start=1):
        out = cc.corrupt(u, "missing-values", level, mean=mean, std=torch.ones(10), generator=gen(level))
        replaced = out == 0.1
        assert replaced.sum(1).tolist() == [round(fraction * 10)] * 500  # counted by hand, per input
        assert torch.equal(out[~replaced], u[~replaced])
        share = replaced.double().mean(0)  # chosen uniformly: each feature about `fraction` of the time
        assert np.allclose(share.numpy(), fraction, atol=4 * (fraction * (1 - fraction) / 500) ** 0.5)


def test_feature_noise_is_severity_times_each_features_std():
    u = torch.full((20000, 3), 0.5)
    std = torch.tensor([0.01, 0.05, 0.0])
    out = cc.corrupt(u, "feature-noise", 5, mean=u.mean(0), std=std, generator=gen())  # 1.0 x std
    assert out.std(0).tolist() == pytest.approx([0.01, 0.05, 0.0], abs=1e-3)
    assert torch.equal(out, cc.corrupt(u, "feature-noise", 5, mean=u.mean(0), std=std, generator=gen()))


def test_bad_names_and_severities_are_one_line():
    with pytest.raises(ConfigError, match="image corruption 'fog'"):
        cc.corrupt(torch.rand(1, 1, 8, 8), "fog", 1)
    with pytest.raises(ConfigError, match="tabular corruption 'blur'"):
        cc.corrupt(torch.rand(3, 4), "blur", 1, mean=torch.zeros(4), std=torch.ones(4))
    with pytest.raises(ConfigError, match="severity=6"):
        cc.corrupt(torch.rand(1, 1, 8, 8), "blur", 6)
    with pytest.raises(ConfigError, match="mean and std"):
        cc.corrupt(torch.rand(3, 4), "missing-values", 1)
