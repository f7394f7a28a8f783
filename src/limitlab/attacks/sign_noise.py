"""Random sign noise: the baseline a gradient attack must beat.

Goodfellow, Shlens, Szegedy. ICLR 2015, arXiv:1412.6572 (sec. 6: random perturbations rarely change
a prediction where the signed gradient does); Athalye, Carlini, Wagner. Obfuscated gradients give a
false sense of security. ICML 2018, arXiv:1802.00420 (sec. 3.1: random sampling finding adversarial
examples that a gradient attack misses is a sign of masked gradients). x + eps * s with s uniform in
{-1, +1} per input value (a random vertex of the L-inf ball, the same size as FGSM's step), clipped
to the bounds.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.errors import ConfigError

Bound = float | Tensor


def sign_noise(x: Tensor, *, eps: float, bounds: tuple[Bound, Bound] = (0.0, 1.0),
               generator: torch.Generator | None = None) -> Tensor:
    """x moved by eps in a random sign per value, clipped to `bounds` (numbers, or tensors that broadcast)."""
    if not eps >= 0:
        raise ConfigError(f"eps={eps}; expected a number >= 0")
    sign = torch.randint(0, 2, x.shape, generator=generator).to(x.dtype) * 2 - 1
    lo, hi = bounds
    return torch.clamp(x + eps * sign, lo, hi)
