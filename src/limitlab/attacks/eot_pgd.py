"""Expectation Over Transformation (EOT): PGD on the expected loss over random transformations.

Athalye, Engstrom, Ilyas, Kwok. Synthesizing robust adversarial examples. ICML 2018,
arXiv:1707.07397. An adversarial example found for one view of an input often stops working once
the input is shifted, rotated or noised. EOT maximizes E_{t ~ T}[J(t(x + delta), y)] instead,
estimating the expectation at every step with `samples` freshly drawn transformations (one batch of
samples x N transformed copies, one forward and backward pass). Each step is a PGD step (sign of the
gradient in L-inf, unit L2 gradient in L2) followed by the projection onto the eps-ball and the bounds.

`transform` is a sampler: any object with `sample(num, *, shape, generator) -> callable batch
transform`, such as `limitlab.data.transforms.TransformDistribution`. The transformations must be
differentiable in x. With the identity distribution and one sample this is exactly `pgd`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks._common import check_inputs, check_norm, clip_to_bounds, l2_normalize, project
from limitlab.attacks.pgd import sample_ball
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import ConfigError


def eot_gradient(model: nn.Module, x: Tensor, y: Tensor, *, transform: TransformDistribution, samples: int,
                 targeted: bool, generator: torch.Generator | None) -> Tensor:
    """d/dx of the loss summed over inputs and averaged over `samples` sampled transformations."""
    x = x.detach().requires_grad_(True)
    reps = x.repeat(samples, *([1] * (x.dim() - 1)))
    views = transform.sample(len(reps), shape=tuple(x.shape[1:]), generator=generator)(reps)
    loss = F.cross_entropy(model(views), y.repeat(samples), reduction="sum") / samples
    (grad,) = torch.autograd.grad(loss, x)
    return -grad if targeted else grad


def eot_pgd(
    model: nn.Module, x: Tensor, y: Tensor, *, transform: TransformDistribution, samples: int, eps: float,
    step_size: float, steps: int, norm: str = "inf", random_start: bool = False, targeted: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
) -> Tensor:
    """`steps` PGD steps on the loss averaged over `samples` transformations drawn from `transform` per step.

    Cost: steps x samples forward+backward passes per input (plain PGD: steps). `y` is the target if
    targeted. `generator` drives the random start and the transformation draws.
    """
    check_inputs(x, y, bounds, eps=eps, step_size=step_size)
    norm = check_norm(norm)
    if steps < 1 or samples < 1:
        raise ConfigError(f"steps={steps}, samples={samples}; expected both >= 1")
    if not callable(getattr(transform, "sample", None)):
        raise ConfigError(f"transform is a {type(transform).__name__}; expected a sampler with .sample(num, shape=, "
                          "generator=), e.g. limitlab.data.transforms.TransformDistribution(max_rotation=15)")
    delta = torch.zeros_like(x)
    if random_start:
        delta = clip_to_bounds(x, sample_ball(x, eps=eps, norm=norm, generator=generator), bounds)
    with frozen(model):
        for _ in range(steps):
            grad = eot_gradient(model, x + delta, y, transform=transform, samples=samples, targeted=targeted,
                                generator=generator)
            step = grad.sign() if norm == "inf" else l2_normalize(grad)
            delta = clip_to_bounds(x, project(delta + step_size * step, eps=eps, norm=norm), bounds)
    return (x + delta).detach()
