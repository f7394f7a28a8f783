"""Deletion and insertion curves: does removing the pixels a map ranks first change the prediction?

Petsiuk, Das, Saenko. RISE: randomized input sampling for explanation of black-box models. BMVC 2018,
arXiv:1806.07421. Deletion: replace the pixels in decreasing order of attribution by a baseline and
follow the probability of the explained class; a faithful map makes it fall fast (low area under the
curve). Insertion: start from the baseline and put the pixels back in the same order; a faithful map
makes it rise fast (high area). Compare a map with a random ordering of the same pixels.

Here the baseline is a constant (0: the blank background of the digits) rather than RISE's blurred
image for insertion. Pixels are ranked per input; ties keep raster order (a stable sort). An
attribution of shape (N, H, W) for x of shape (N, C, H, W) ranks whole pixels (all channels at once).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.attribution._common import Target, check_baseline, check_classes, check_x, logits, resolve_target
from limitlab.errors import DataError


@dataclass(frozen=True)
class PerturbationCurve:
    """`scores[n, k]`: probability of input n's class with a fraction `fractions[k]` of its pixels changed."""

    fractions: Tensor  # (num_steps + 1,), from 0 to 1
    scores: Tensor     # (N, num_steps + 1)
    auc: Tensor        # (N,), trapezoidal area under each input's curve over fractions in [0, 1]


def _ranks(x: Tensor, attribution: Tensor) -> Tensor:
    """Rank of every element of x (0 = most important), per input, with the shape of x."""
    if attribution.shape == x.shape or (x.dim() >= 3 and attribution.shape == (x.shape[0], *x.shape[2:])):
        flat = attribution.flatten(1)
    else:
        raise DataError(f"attribution has shape {tuple(attribution.shape)}; expected x's shape {tuple(x.shape)} "
                        f"or one map per input without the channel axis {(x.shape[0], *x.shape[2:])}")
    if not torch.isfinite(flat).all():
        raise DataError("attribution contains NaN or Inf; expected finite scores (check the map's computation)")
    order = flat.argsort(dim=1, descending=True, stable=True)
    positions = torch.arange(flat.shape[1], device=order.device).expand_as(order)
    ranks = torch.empty_like(order).scatter_(1, order, positions)
    ranks = ranks.view(attribution.shape)
    return ranks.unsqueeze(1).expand_as(x) if ranks.shape != x.shape else ranks


def _curve(model: nn.Module, x: Tensor, attribution: Tensor, *, insert: bool, target: Target, num_steps: int,
           baseline: float | Tensor, batch_size: int) -> PerturbationCurve:
    check_x(x, model)
    _checks.integer("num_steps", num_steps)
    _checks.integer("batch_size", batch_size)
    x = x.detach()
    ranks = _ranks(x, _checks.tensor(attribution, "attribution", min_dim=0, spec="x's shape", finite=False,
                                     floating=False).detach())
    num_pixels = int(ranks.flatten(1).max(1).values[0]) + 1
    counts = torch.round(torch.linspace(0, num_pixels, num_steps + 1)).long()
    base = check_baseline(baseline, x)
    # changed[k] marks the elements ranked among the first counts[k]: (num_steps + 1, N, ...).
    changed = ranks.unsqueeze(0) < counts.view(-1, *([1] * x.dim()))
    keep_x = changed if insert else ~changed
    images = torch.where(keep_x, x.unsqueeze(0), base.unsqueeze(0)).flatten(0, 1)
    with frozen(model), torch.no_grad():
        target = resolve_target(model, x, target)
        probs = torch.cat([torch.softmax(logits(model, images[i:i + batch_size]), dim=1)
                           for i in range(0, len(images), batch_size)])
    check_classes(target, probs.shape[1])
    scores = probs.view(num_steps + 1, len(x), -1).gather(2, target.view(1, -1, 1).expand(num_steps + 1, -1, 1))
    scores = scores[..., 0].T.contiguous()
    fractions = counts.to(x.dtype) / num_pixels
    return PerturbationCurve(fractions, scores, torch.trapezoid(scores, fractions, dim=1))


def deletion_curve(
    model: nn.Module, x: Tensor, attribution: Tensor, *, target: Target = None, num_steps: int = 16,
    baseline: float | Tensor = 0.0, batch_size: int = 4096,
) -> PerturbationCurve:
    """Class probability as the most-attributed pixels are replaced by `baseline` (lower area: better map)."""
    return _curve(model, x, attribution, insert=False, target=target, num_steps=num_steps, baseline=baseline,
                  batch_size=batch_size)


def insertion_curve(
    model: nn.Module, x: Tensor, attribution: Tensor, *, target: Target = None, num_steps: int = 16,
    baseline: float | Tensor = 0.0, batch_size: int = 4096,
) -> PerturbationCurve:
    """Class probability as the most-attributed pixels are restored onto `baseline` (higher area: better map)."""
    return _curve(model, x, attribution, insert=True, target=target, num_steps=num_steps, baseline=baseline,
                  batch_size=batch_size)
