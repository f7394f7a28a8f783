"""Random perturbations of a given size: the control every gradient attack is compared against.

Goodfellow, Shlens, Szegedy. Explaining and harnessing adversarial examples. ICLR 2015,
arXiv:1412.6572: adversarial directions are rare, so random noise of the same size barely changes
the prediction; an attack that beats this control shows that the direction matters, not the size.
`random_sign` draws each pixel's sign uniformly (an L-inf perturbation of exactly eps, like FGSM's);
`random_l2` a uniformly random direction of L2 length eps. Both clip the result to `bounds` (numbers,
or tensors that broadcast against x: per-feature bounds). Athalye, Carlini, Wagner. Obfuscated
gradients give a false sense of security. ICML 2018, arXiv:1802.00420 (sec. 3.1): random noise finding
adversarial examples that a gradient attack misses is a sign of masked gradients (the audit's use).
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.errors import ConfigError, DataError

Bound = float | Tensor


def _check(x: Tensor, eps: float) -> None:
    if not x.is_floating_point():
        raise DataError(f"x has dtype {x.dtype}; expected a floating-point tensor (e.g. x.float())")
    if not eps >= 0:
        raise ConfigError(f"eps={eps}; expected a number >= 0")


def _clip(x: Tensor, bounds: tuple[Bound, Bound]) -> Tensor:
    """x clipped to `bounds`. torch.clamp takes two numbers or two tensors, so a number beside a tensor bound
    becomes a tensor of x's dtype and device."""
    lo, hi = bounds
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        lo_t = lo if isinstance(lo, Tensor) else torch.tensor(lo, dtype=x.dtype, device=x.device)
        hi_t = hi if isinstance(hi, Tensor) else torch.tensor(hi, dtype=x.dtype, device=x.device)
        return torch.clamp(x, lo_t, hi_t)
    return torch.clamp(x, lo, hi)


def random_sign(x: Tensor, *, eps: float, bounds: tuple[Bound, Bound] = (0.0, 1.0),
                generator: torch.Generator | None = None) -> Tensor:
    """x + eps * s with s uniform in {-1, +1} per pixel, clipped to `bounds`."""
    _check(x, eps)
    sign = torch.randint(0, 2, x.shape, generator=generator).to(device=x.device, dtype=x.dtype) * 2 - 1
    return _clip(x + eps * sign, bounds)


def random_l2(x: Tensor, *, eps: float, bounds: tuple[Bound, Bound] = (0.0, 1.0),
              generator: torch.Generator | None = None) -> Tensor:
    """x + eps * u with u a uniformly random unit vector (L2) per input, clipped to `bounds`."""
    _check(x, eps)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    unit = noise / noise.flatten(1).norm(dim=1).view(-1, *([1] * (x.dim() - 1)))
    return _clip(x + eps * unit, bounds)
