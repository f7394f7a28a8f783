"""Expectation Over Transformation (EOT): PGD on the expected loss over random transformations.

Athalye, Engstrom, Ilyas, Kwok. Synthesizing robust adversarial examples. ICML 2018,
arXiv:1707.07397. An adversarial example found for one view of an input often stops working once
the input is shifted, rotated or noised. EOT maximizes E_{t ~ T}[J(t(x + delta), y)] instead,
estimating the expectation at every step with `samples` freshly drawn transformations (one batch of
samples x N transformed copies, one forward and backward pass). The steps, the projection onto the
eps-ball and the bounds, and the random start are `pgd`'s: EOT-PGD is `pgd` with `eot_gradient`.

`transform` is a sampler: any object with `sample(num, *, shape, generator) -> callable batch
transform`, such as `limitlab.data.transforms.TransformDistribution`. The transformations must be
differentiable in x. With the identity distribution and one sample this is exactly `pgd`.
"""
from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab.attacks._common import cross_entropy, gradient_of
from limitlab.attacks.pgd import pgd
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import ConfigError


def eot_gradient(model: nn.Module, x: Tensor, y: Tensor, *, transform: TransformDistribution, samples: int,
                 generator: torch.Generator | None = None) -> Tensor:
    """d/dx of the loss summed over inputs and averaged over `samples` transformations drawn from `generator`."""
    generator = _checks.as_generator(generator)

    def loss(v: Tensor) -> Tensor:
        reps = v.repeat(samples, *([1] * (v.dim() - 1)))
        views = transform.sample(len(reps), shape=tuple(v.shape[1:]), generator=generator)(reps)
        return cross_entropy(model, views, y.repeat(samples)) / samples

    return gradient_of(loss, x)


def eot_pgd(
    model: nn.Module, x: Tensor, y: Tensor, *, transform: TransformDistribution, samples: int, eps: float,
    step_size: float, steps: int, norm: str = "inf", random_start: bool = False, targeted: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
) -> Tensor:
    """`steps` PGD steps on the loss averaged over `samples` transformations drawn from `transform` per step.

    Cost: steps x samples forward+backward passes per input (plain PGD: steps). `y` is the target if
    targeted. `generator` drives the random start and the transformation draws (None: torch's global one).
    """
    _checks.integer("samples", samples, low=1)
    if not callable(getattr(transform, "sample", None)):
        raise ConfigError(f"transform is a {type(transform).__name__}; expected a sampler with .sample(num, shape=, "
                          "generator=), e.g. limitlab.data.transforms.TransformDistribution(max_rotation=15)")
    generator = _checks.as_generator(generator)
    grad_fn = functools.partial(eot_gradient, transform=transform, samples=samples, generator=generator)
    return pgd(model, x, y, eps=eps, step_size=step_size, steps=steps, norm=norm, random_start=random_start,
               targeted=targeted, bounds=bounds, generator=generator, grad_fn=grad_fn)
