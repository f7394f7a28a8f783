"""Common corruptions at five graded severities, for images and tables in the unit box of their bounds.

Hendrycks, Dietterich. Benchmarking neural network robustness to common corruptions and perturbations.
ICLR 2019, arXiv:1903.12261 (CIFAR-10-C: 15 corruptions x 5 severities, made by `make_cifar_c.py`);
Engstrom, Tran, Tsipras, Schmidt, Madry. Exploring the landscape of spatial robustness. ICML 2019,
arXiv:1712.02779 (translations up to 3 of 32 pixels, rotations up to 30 degrees).

Inputs are in the unit box of their bounds (0 and 1 = each channel's or feature's own lo and hi), so a
severity means the same fraction of the range on any data; the result is clamped to the box, as
CIFAR-10-C clips to [0, 1]. Images (N x C x H x W), severities 1..5 (`IMAGE`):
- gaussian-noise: std 0.04, 0.06, 0.08, 0.09, 0.10 of the range (CIFAR-10-C's gaussian_noise).
- blur: Gaussian, sigma 0.4, 0.6, 0.7, 0.8, 1.0 pixels per 32 pixels of the side (CIFAR-10-C's
  gaussian_blur on 32 x 32 images, scaled to the image's size).
- shift: 2, 4, 6, 8, 10% of the side along each axis, a random sign per image and axis, the uncovered
  border at the range's low end (10% ~ Engstrom et al.'s 3 of 32 pixels).
- rotation: 6, 12, 18, 24, 30 degrees, a random sign per image (30: Engstrom et al.'s largest).
- brightness: + 0.05, 0.1, 0.15, 0.2, 0.3 of the range (CIFAR-10-C's brightness; there it is added to
  HSV's value, here to every channel, which is the same for grey images).
- contrast: mean + c (x - mean) with c = 0.75, 0.5, 0.4, 0.3, 0.15 (CIFAR-10-C's contrast; the mean over
  each image's values, where CIFAR-10-C takes one per channel: the same for grey images).
- jpeg: quality 80, 65, 58, 50, 40 (CIFAR-10-C's jpeg_compression), `limitlab.data.jpeg`.
Tables (N x D), severities 1..5 (`TABLE`; no benchmark defines these, so they are stated here):
- feature-noise: Gaussian with std 0.2, 0.4, 0.6, 0.8, 1.0 times each feature's std over the data (at
  severity 5 the noise is as large as the feature's own spread).
- missing-values: 10, 20, 30, 40, 50% of each input's features (exactly that many, rounded, chosen at
  random) replaced by the feature's mean over the data: the mean imputation a deployed pipeline does
  when a value does not arrive.
`corrupt(u, name, severity, ...)` picks the magnitude of a severity; the random draws come from the
generator passed in (one per corruption and severity in the audit), in an order that does not depend on
how the inputs are split into batches.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.data import transforms as T
from limitlab.data.jpeg import jpeg_quantize
from limitlab.errors import ConfigError

IMAGE = {"gaussian-noise": (0.04, 0.06, 0.08, 0.09, 0.10), "blur": (0.4, 0.6, 0.7, 0.8, 1.0),
         "shift": (0.02, 0.04, 0.06, 0.08, 0.10), "rotation": (6.0, 12.0, 18.0, 24.0, 30.0),
         "brightness": (0.05, 0.1, 0.15, 0.2, 0.3), "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
         "jpeg": (80, 65, 58, 50, 40)}
TABLE = {"feature-noise": (0.2, 0.4, 0.6, 0.8, 1.0), "missing-values": (0.1, 0.2, 0.3, 0.4, 0.5)}
UNITS = {"gaussian-noise": "noise std, fraction of the range", "blur": "sigma, pixels per 32 of the side",
         "shift": "fraction of the side", "rotation": "degrees", "brightness": "added, fraction of the range",
         "contrast": "contrast factor", "jpeg": "JPEG quality", "feature-noise": "noise std, in feature stds",
         "missing-values": "fraction of features replaced by the mean"}


def _signs(n: int, k: int, generator: torch.Generator | None) -> Tensor:
    """(n, k) random signs, drawn input by input (so batches draw what one pass does)."""
    return torch.randint(0, 2, (n, k), generator=generator).float() * 2 - 1


def standard_normal(shape: tuple[int, ...], *, generator: torch.Generator | None = None) -> Tensor:
    """N(0, 1) draws as the inverse normal CDF of float64 uniforms: unlike `torch.randn` (which transforms blocks
    of 16), drawing the rows in batches gives the same values as drawing them at once, so --batch-size never
    changes the corruption."""
    return torch.special.ndtri(torch.rand(shape, generator=generator, dtype=torch.float64).clamp_min(1e-300))


def image(u: Tensor, name: str, c: float, *, generator: torch.Generator | None = None) -> Tensor:
    """Images u (N x C x H x W in the unit box) under corruption `name` of magnitude `c` (a value of IMAGE)."""
    h, w = u.shape[2:]
    if name == "gaussian-noise":
        out = u + c * standard_normal(tuple(u.shape), generator=generator).to(u.dtype)
    elif name == "blur":
        out = T.blur(u, (c * h / 32, c * w / 32))
    elif name == "shift":
        sign = _signs(len(u), 2, generator)
        out = T.shift(u, c * w * sign[:, 0], c * h * sign[:, 1])
    elif name == "rotation":
        out = T.rotate(u, c * _signs(len(u), 1, generator)[:, 0])
    elif name == "brightness":
        out = T.brightness(u, c)
    elif name == "contrast":
        out = T.contrast(u, c)
    elif name == "jpeg":
        out = jpeg_quantize(u, quality=int(c))
    else:
        raise ConfigError(f"image corruption {name!r}; expected one of {', '.join(IMAGE)}")
    return out.clamp(0, 1)


def feature_noise(u: Tensor, std: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """u + std * N(0, 1) per value, `std` per feature (D,), clamped to the unit box."""
    return (u + std * standard_normal(tuple(u.shape), generator=generator).to(u.dtype)).clamp(0, 1)


def missing_values(u: Tensor, fraction: float, mean: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Exactly round(fraction * D) features of each input, chosen at random, replaced by `mean` (D,)."""
    k = round(fraction * u.shape[1])
    order = torch.rand(u.shape, generator=generator).argsort(1)  # a random permutation per input
    chosen = torch.zeros(u.shape, dtype=torch.bool).scatter_(1, order[:, :k], True)
    return torch.where(chosen, mean.to(u.dtype), u)


def table(u: Tensor, name: str, c: float, *, mean: Tensor, std: Tensor,
          generator: torch.Generator | None = None) -> Tensor:
    """Rows u (N x D in the unit box) under corruption `name` of magnitude `c` (a value of TABLE); `mean` and
    `std` are each feature's over the data, in the unit box."""
    if name == "feature-noise":
        return feature_noise(u, c * std, generator=generator)
    if name == "missing-values":
        return missing_values(u, c, mean, generator=generator)
    raise ConfigError(f"tabular corruption {name!r}; expected one of {', '.join(TABLE)}")


def corrupt(u: Tensor, name: str, severity: int, *, mean: Tensor | None = None, std: Tensor | None = None,
            generator: torch.Generator | None = None) -> Tensor:
    """u (unit box) under corruption `name` at `severity` 1..5: an image one for N x C x H x W, else a tabular
    one (which needs each feature's `mean` and `std` over the data)."""
    if not (isinstance(severity, int) and 1 <= severity <= 5):
        raise ConfigError(f"severity={severity!r}; expected an integer from 1 to 5")
    if u.dim() == 4:
        return image(u, name, IMAGE.get(name, (0.0,) * 5)[severity - 1], generator=generator)
    if mean is None or std is None:
        raise ConfigError("a tabular corruption needs each feature's mean and std over the data (mean=, std=)")
    return table(u, name, TABLE.get(name, (0.0,) * 5)[severity - 1], mean=mean, std=std, generator=generator)
