"""Differentiable transformations of image batches, and a seeded sampler of random transformations.

The one transformation library of limitlab (used by the `eot` attack and study, the `uncertainty`
study's rotated digits, and the `invariance` study). Everything works on float batches N x C x H x W,
is differentiable with respect to the images (bilinear resampling through `affine_grid` /
`grid_sample`), and never changes its input in place. Background outside the image is 0 (no ink).

Deterministic functions, one magnitude each; a magnitude is a number (same for every image) or a
tensor of shape (N,) (one per image):

    shift(x, dx, dy=0.0)            translate by dx pixels right and dy pixels down
    rotate(x, degrees)              rotate about the image centre, counter-clockwise on screen
    scale(x, factor)                zoom about the centre (factor > 1 enlarges the content)
    affine(x, degrees=, factor=, dx=, dy=)   the three at once, with a single resampling
    add_noise(x, std, generator=)   additive Gaussian noise
    brightness(x, delta)            x + delta
    contrast(x, factor)             mean + factor * (x - mean), per image
    blur(x, sigma)                  Gaussian blur, sigma pixels (one number or (rows, columns))

Random transformations:

    dist = TransformDistribution(max_shift=1.0, max_rotation=15.0, scale_range=(0.9, 1.1),
                                 noise_std=0.05, max_brightness=0.1, contrast_range=(0.8, 1.2))
    t = dist.sample(len(x), generator=torch.Generator().manual_seed(0))   # a BatchTransform
    x_t = t(x)              # the same sampled transformations each call; differentiable in x
    dist.scaled(0.5)        # the same family at half strength (0 = the identity)

`sample(n, ...)` draws n independent transformations (one per image); the result clamps to
`bounds` (default (0, 1)) unless `bounds=None`. The parameters are drawn from the generator in a
fixed order, so the same seed gives the same transformations. A distribution whose parameters are
all neutral is the identity and its samples return the input unchanged (bit for bit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from limitlab.errors import ConfigError, DataError

Magnitude = float | Tensor

__all__ = ["BatchTransform", "TransformDistribution", "add_noise", "affine", "blur", "brightness", "contrast",
           "rotate", "scale", "shift"]


def _check_images(x: Tensor) -> None:
    if x.dim() != 4 or not x.is_floating_point():
        raise DataError(f"images have shape {tuple(x.shape)} and dtype {x.dtype}; "
                        "expected a float batch N x C x H x W (e.g. x.float()[:, None] for N x H x W)")


def _per_image(value: Magnitude, x: Tensor, name: str) -> Tensor:
    """A magnitude as a tensor of shape (N,) in x's dtype."""
    t = torch.as_tensor(value, dtype=x.dtype)
    if t.dim() == 0:
        return t.expand(len(x))
    if t.shape != (len(x),):
        raise ConfigError(f"{name} has shape {tuple(t.shape)}; expected a number or a tensor of shape ({len(x)},)")
    return t


def affine(x: Tensor, *, degrees: Magnitude = 0.0, factor: Magnitude = 1.0, dx: Magnitude = 0.0,
           dy: Magnitude = 0.0) -> Tensor:
    """Rotate by `degrees`, zoom by `factor` and shift by (dx, dy) pixels, with one bilinear resampling.

    The output pixel at position p shows the input at A^-1 (p - c - d) + c, where A is rotation times
    zoom about the image centre c and d the shift; `grid_sample` with align_corners=False treats
    pixels as unit squares, so a shift of one pixel moves the content by exactly one pixel.
    """
    _check_images(x)
    _, _, h, w = x.shape
    angle = _per_image(degrees, x, "degrees") * (math.pi / 180)
    zoom = _per_image(factor, x, "factor")
    if bool((zoom <= 0).any()):
        raise ConfigError(f"scale factor has values <= 0 (min {float(zoom.min()):g}); expected factors > 0")
    # The grid maps output coordinates (normalized to [-1, 1]) to input coordinates: the inverse map.
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    tx, ty = _per_image(dx, x, "dx") * (2 / w), _per_image(dy, x, "dy") * (2 / h)
    # Screen y points down, so a counter-clockwise rotation on screen is clockwise in (x, y) coordinates.
    theta = torch.stack([
        torch.stack([cos, -sin * h / w, -(cos * tx - sin * ty * h / w)], dim=1),
        torch.stack([sin * w / h, cos, -(sin * tx * w / h + cos * ty)], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def shift(x: Tensor, dx: Magnitude, dy: Magnitude = 0.0) -> Tensor:
    """Translate by `dx` pixels to the right and `dy` pixels down (fractions interpolate bilinearly)."""
    return affine(x, dx=dx, dy=dy)


def rotate(x: Tensor, degrees: Magnitude) -> Tensor:
    """Rotate about the image centre by `degrees`, counter-clockwise as displayed."""
    return affine(x, degrees=degrees)


def scale(x: Tensor, factor: Magnitude) -> Tensor:
    """Zoom about the image centre: factor 2 shows the central half at twice the size."""
    return affine(x, factor=factor)


def add_noise(x: Tensor, std: Magnitude, *, generator: torch.Generator | None = None) -> Tensor:
    """x + std * N(0, 1), independently per pixel; `std` per image or shared."""
    _check_images(x)
    sigma = _per_image(std, x, "std")
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x + sigma.view(-1, 1, 1, 1) * noise


def brightness(x: Tensor, delta: Magnitude) -> Tensor:
    """x + delta: every pixel brighter by `delta` (in the units of x)."""
    _check_images(x)
    return x + _per_image(delta, x, "delta").view(-1, 1, 1, 1)


def contrast(x: Tensor, factor: Magnitude) -> Tensor:
    """mean + factor * (x - mean), the mean taken over each image's pixels (factor 0: flat grey)."""
    _check_images(x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return mean + _per_image(factor, x, "factor").view(-1, 1, 1, 1) * (x - mean)


def blur(x: Tensor, sigma: float | tuple[float, float]) -> Tensor:
    """Gaussian blur with standard deviation `sigma` pixels (one number, or (rows, columns); 0 leaves an axis).

    As scipy.ndimage.gaussian_filter with mode "nearest" (the border pixels extend outward, so a flat image
    stays flat): a separable kernel cut at 4 sigma and normalized to sum 1, run per channel."""
    _check_images(x)
    out = x
    for axis, s in enumerate((sigma, sigma) if isinstance(sigma, (int, float)) else sigma):
        if not s >= 0:
            raise ConfigError(f"blur sigma={sigma}; expected standard deviations >= 0 (pixels)")
        radius = int(4 * s + 0.5)
        if radius == 0:
            continue
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        k = torch.exp(-0.5 * (t / s) ** 2)
        kernel = (k / k.sum()).reshape((1, 1, -1, 1) if axis == 0 else (1, 1, 1, -1))
        pad = (0, 0, radius, radius) if axis == 0 else (radius, radius, 0, 0)
        out = F.conv2d(F.pad(out, pad, mode="replicate"), kernel.expand(x.shape[1], -1, -1, -1), groups=x.shape[1])
    return out


@dataclass(frozen=True)
class BatchTransform:
    """Sampled transformations, one per image: geometry, then contrast, brightness, noise, then clamp.

    Calling it applies the same transformations every time (the noise is drawn once, at sampling),
    so an attack can differentiate through it and a reader can re-apply it.
    """

    degrees: Tensor
    factor: Tensor
    dx: Tensor
    dy: Tensor
    contrast: Tensor
    brightness: Tensor
    noise: Tensor | None  # N x C x H x W, already multiplied by the sampled std
    bounds: tuple[float, float] | None = (0.0, 1.0)

    def __len__(self) -> int:
        return len(self.degrees)

    def __call__(self, x: Tensor) -> Tensor:
        _check_images(x)
        if len(x) != len(self):
            raise DataError(f"batch of {len(x)} images for {len(self)} sampled transformations; "
                            "sample one transformation per image (dist.sample(len(x), ...))")
        if bool((self.degrees != 0).any() or (self.factor != 1).any() or (self.dx != 0).any()
                or (self.dy != 0).any()):
            x = affine(x, degrees=self.degrees, factor=self.factor, dx=self.dx, dy=self.dy)
        if bool((self.contrast != 1).any()):
            x = contrast(x, self.contrast)
        if bool((self.brightness != 0).any()):
            x = brightness(x, self.brightness)
        if self.noise is not None:
            if self.noise.shape[1:] != x.shape[1:]:
                raise DataError(f"images of shape {tuple(x.shape[1:])}; these transformations were sampled "
                                f"for {tuple(self.noise.shape[1:])}")
            x = x + self.noise
        return x if self.bounds is None else x.clamp(*self.bounds)


@dataclass(frozen=True)
class TransformDistribution:
    """Independent uniform draws of each transformation's magnitude (all zero/one: the identity).

    Shift: dx, dy ~ U(-max_shift, max_shift) pixels. Rotation: U(-max_rotation, max_rotation) degrees.
    Scale: U(scale_range). Noise: Gaussian with std noise_std. Brightness: U(-max_brightness,
    max_brightness). Contrast: U(contrast_range).
    """

    max_shift: float = 0.0
    max_rotation: float = 0.0
    scale_range: tuple[float, float] = (1.0, 1.0)
    noise_std: float = 0.0
    max_brightness: float = 0.0
    contrast_range: tuple[float, float] = (1.0, 1.0)
    bounds: tuple[float, float] | None = (0.0, 1.0)

    def __post_init__(self) -> None:
        for name in ("max_shift", "max_rotation", "noise_std", "max_brightness"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name}={getattr(self, name)}; expected a number >= 0")
        for name in ("scale_range", "contrast_range"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi or (name == "scale_range" and lo <= 0):
                raise ConfigError(f"{name}=({lo}, {hi}); expected (low, high) with 0 < low <= high")

    @property
    def is_identity(self) -> bool:
        return (self.max_shift == self.max_rotation == self.noise_std == self.max_brightness == 0
                and self.scale_range == (1.0, 1.0) and self.contrast_range == (1.0, 1.0))

    def scaled(self, strength: float) -> TransformDistribution:
        """The same family with every magnitude times `strength` (ranges shrink or grow about 1)."""
        if not strength >= 0:
            raise ConfigError(f"strength={strength}; expected a number >= 0")

        def about_one(r: tuple[float, float]) -> tuple[float, float]:
            return (max(1 + strength * (r[0] - 1), 1e-3), 1 + strength * (r[1] - 1))

        return replace(self, max_shift=self.max_shift * strength, max_rotation=self.max_rotation * strength,
                       scale_range=about_one(self.scale_range), noise_std=self.noise_std * strength,
                       max_brightness=self.max_brightness * strength,
                       contrast_range=about_one(self.contrast_range))

    def sample(self, num: int, *, shape: tuple[int, ...] = (1, 8, 8),
               generator: torch.Generator | None = None) -> BatchTransform:
        """`num` independent transformations for images of `shape` (C, H, W), drawn from `generator`."""
        if num < 0:
            raise ConfigError(f"num={num}; expected >= 0")

        def uniform(lo: float, hi: float) -> Tensor:
            return lo + (hi - lo) * torch.rand(num, generator=generator)

        s = self
        degrees = uniform(-s.max_rotation, s.max_rotation)
        factor = uniform(*s.scale_range)
        dx, dy = uniform(-s.max_shift, s.max_shift), uniform(-s.max_shift, s.max_shift)
        gain = uniform(*s.contrast_range)
        offset = uniform(-s.max_brightness, s.max_brightness)
        noise = s.noise_std * torch.randn((num, *shape), generator=generator) if s.noise_std > 0 else None
        return BatchTransform(degrees, factor, dx, dy, gain, offset, noise, self.bounds)
