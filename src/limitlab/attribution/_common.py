"""What every attribution method shares: input checks, the explained class, the class score's gradient.

Every method explains the model's *pre-softmax* score of one class per input (the logit y^c, as in
Grad-CAM and integrated gradients), in eval mode, so the inputs of a batch do not interact.
"""
from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from limitlab import _checks
from limitlab.errors import ConfigError, ConfigTypeError, DataError

Target = int | Tensor | None


def check_x(x: Tensor, model: nn.Module | None = None) -> Tensor:
    """A finite, floating-point, non-empty batch (N, ...) (and, if given, a model that is an nn.Module)."""
    if model is not None:
        _checks.module(model)
    return _checks.tensor(x, "x", min_dim=2)


def check_baseline(baseline: float | Tensor, x: Tensor) -> Tensor:
    """The baseline as a finite tensor of x's dtype; it must broadcast to x's shape."""
    if isinstance(baseline, Tensor):
        base = _checks.tensor(baseline.to(x.dtype), "baseline", min_dim=0, spec="a number or a tensor of x's shape")
    elif isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        base = torch.as_tensor(_checks.number("baseline", baseline), dtype=x.dtype)
    else:
        raise ConfigTypeError(f"baseline={_checks.shown(baseline)}; expected a number or a tensor that broadcasts "
                              f"to x's shape {tuple(x.shape)}")
    try:
        base.expand_as(x)
    except RuntimeError:  # torch's broadcasting error names neither argument
        raise DataError(f"baseline has shape {tuple(base.shape)}; expected a number or a tensor that "
                        f"broadcasts to x's shape {tuple(x.shape)}") from None
    return base


def logits(model: nn.Module, x: Tensor) -> Tensor:
    return _checks.logits(model(x), len(x), what="the explained model")


def resolve_target(model: nn.Module, x: Tensor, target: Target) -> Tensor:
    """The class to explain for each input: the prediction (None), one class (int), or one per input."""
    if target is None:
        with torch.no_grad():
            return logits(model, x).argmax(dim=1)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        return torch.full((len(x),), int(target), dtype=torch.long, device=x.device)
    if isinstance(target, Tensor) and not target.is_floating_point() and target.dtype != torch.bool \
            and target.shape == (len(x),):
        return target.long()
    raise ConfigError(f"target={_checks.shown(target)}; expected None (the predicted class), an int, or an "
                      f"integer tensor of shape ({len(x)},)")


def check_classes(target: Tensor, num_classes: int) -> None:
    if int(target.min()) < 0 or int(target.max()) >= num_classes:
        raise ConfigError(f"target ranges over {int(target.min())}..{int(target.max())}; the model has "
                          f"{num_classes} classes: expected targets in 0..{num_classes - 1}")


def class_score(model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
    """The logit of each input's target class, shape (N,)."""
    out = logits(model, x)
    check_classes(target, out.shape[1])
    return out.gather(1, target.view(-1, 1)).squeeze(1)


def score_gradient(model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
    """d(logit of the target class)/dx for each input (the model should be `frozen`); also under no_grad()."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(class_score(model, x, target).sum(), x)
    return grad
