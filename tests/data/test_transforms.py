"""The transformation library against hand-worked pixel moves, torch.rot90, and closed forms."""
import pytest
import torch

from limitlab.data import transforms as T
from limitlab.errors import ConfigError, DataError


def dot(row: int, col: int) -> torch.Tensor:
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, row, col] = 1.0
    return x


def test_shift_moves_one_pixel_right_and_down():
    assert T.shift(dot(1, 2), 1.0)[0, 0, 1, 3] == pytest.approx(1.0)
    assert T.shift(dot(1, 2), 0.0, 1.0)[0, 0, 2, 2] == pytest.approx(1.0)
    half = T.shift(dot(1, 2), 0.5)[0, 0]  # bilinear: half the ink on each neighbour
    assert half[1, 2] == pytest.approx(0.5) and half[1, 3] == pytest.approx(0.5)


def test_rotate_90_equals_rot90_counter_clockwise():
    x = torch.rand(4, 2, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(T.rotate(x, 90.0), torch.rot90(x, 1, (2, 3)), atol=1e-5, rtol=0)
    torch.testing.assert_close(T.rotate(x, -90.0), torch.rot90(x, -1, (2, 3)), atol=1e-5, rtol=0)


def test_scale_two_enlarges_centre_and_identity_is_exact():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3:5, 3:5] = 1.0
    big = T.scale(x, 2.0)[0, 0]
    assert float(big.sum()) == pytest.approx(4 * 4.0)  # area grows by factor^2 = 4
    y = torch.rand(3, 1, 8, 8)
    assert torch.equal(T.affine(y), y)


def test_per_image_magnitudes_and_photometric_closed_forms():
    x = torch.rand(3, 1, 8, 8)
    out = T.shift(x, torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(out[0], x[0])
    torch.testing.assert_close(out[1, 0, :, 1:], x[1, 0, :, :-1])
    torch.testing.assert_close(T.brightness(x, 0.25), x + 0.25)
    c = T.contrast(x, 0.5)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    torch.testing.assert_close(c, mean + 0.5 * (x - mean))
    torch.testing.assert_close(c.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)))
    noisy = T.add_noise(torch.zeros(2000, 1, 8, 8), 0.1, generator=torch.Generator().manual_seed(0))
    assert float(noisy.std()) == pytest.approx(0.1, rel=0.02)


def test_transforms_are_differentiable_in_x():
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: T.affine(t, degrees=20.0, factor=1.1, dx=0.3), (x,))


def test_sampler_is_seeded_identity_and_scaled():
    dist = T.TransformDistribution(max_shift=1.0, max_rotation=15.0, scale_range=(0.9, 1.1), noise_std=0.05,
                                   max_brightness=0.1, contrast_range=(0.8, 1.2))
    x = torch.rand(5, 1, 8, 8)
    a = dist.sample(5, generator=torch.Generator().manual_seed(3))(x)
    b = dist.sample(5, generator=torch.Generator().manual_seed(3))(x)
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(dist.scaled(0.0).sample(5)(x), x)
    assert T.TransformDistribution().is_identity and dist.scaled(0).is_identity
    half = dist.scaled(0.5)
    assert half.max_rotation == 7.5 and half.scale_range == pytest.approx((0.95, 1.05))
    t = dist.sample(10_000, generator=torch.Generator().manual_seed(0))
    assert float(t.degrees.abs().max()) <= 15.0 and float(t.degrees.std()) == pytest.approx(15 / 3 ** 0.5, rel=0.05)


def test_bad_input_is_a_clear_error():
    with pytest.raises(DataError, match="N x C x H x W"):
        T.rotate(torch.rand(8, 8), 10.0)
    with pytest.raises(ConfigError, match="max_rotation"):
        T.TransformDistribution(max_rotation=-1)
    with pytest.raises(DataError, match="one transformation per image"):
        T.TransformDistribution(max_shift=1).sample(2)(torch.rand(3, 1, 8, 8))
    with pytest.raises(ConfigError, match="shape"):
        T.shift(torch.rand(3, 1, 8, 8), torch.zeros(2))


def test_blur_equals_scipy_gaussian_filter_with_nearest_edges():
    from scipy.ndimage import gaussian_filter

    x = torch.rand(3, 2, 9, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for sigma in (0.3, 0.7, (1.2, 0.5), (0.0, 2.0), 3.0):  # 3.0: the kernel is wider than the image
        pair = (sigma, sigma) if isinstance(sigma, float) else sigma
        expected = gaussian_filter(x.numpy(), (0, 0, *pair), mode="nearest")
        torch.testing.assert_close(T.blur(x, sigma), torch.from_numpy(expected), atol=1e-12, rtol=0)
    flat = torch.full((1, 3, 5, 5), 0.4)
    torch.testing.assert_close(T.blur(flat, 1.5), flat)  # edges extend outward: a flat image stays flat
    assert torch.equal(T.blur(x, 0.0), x)
    with pytest.raises(ConfigError, match="blur sigma"):
        T.blur(x, -1.0)
