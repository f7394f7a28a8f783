"""What every attribution method shares: input checks, the explained class, the class score's gradient.

Every method explains the model's *pre-softmax* score of one class per input (the logit y^c, as in
Grad-CAM and integrated gradients), in eval mode, so the inputs of a batch do not interact.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab.errors import ConfigError, DataError, IncompatibleModelError

Target = int | Tensor | None


def check_x(x: Tensor) -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise DataError(f"x is a {type(x).__name__} of dtype {getattr(x, 'dtype', None)}; "
                        "expected a floating-point tensor of shape (N, ...) (e.g. x.float())")
    if x.dim() < 2 or len(x) == 0:
        raise DataError(f"x has shape {tuple(x.shape)}; expected a non-empty batch (N, ...); "
                        "add a batch axis with x.unsqueeze(0)")


def logits(model: nn.Module, x: Tensor) -> Tensor:
    out = model(x)
    if not isinstance(out, Tensor) or out.dim() != 2:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise IncompatibleModelError(f"the model returned {shape}; attribution expects class scores of "
                                     "shape (N, C): wrap the model so that it returns logits")
    return out


def resolve_target(model: nn.Module, x: Tensor, target: Target) -> Tensor:
    """The class to explain for each input: the prediction (None), one class (int), or one per input."""
    if target is None:
        with torch.no_grad():
            return logits(model, x).argmax(dim=1)
    if isinstance(target, int) and not isinstance(target, bool):
        return torch.full((len(x),), target, dtype=torch.long)
    if isinstance(target, Tensor) and not target.is_floating_point() and target.shape == (len(x),):
        return target.long()
    raise ConfigError(f"target={target!r}; expected None (the predicted class), an int, or an integer "
                      f"tensor of shape ({len(x)},)")


def check_classes(target: Tensor, num_classes: int) -> None:
    if int(target.min()) < 0 or int(target.max()) >= num_classes:
        raise ConfigError(f"target ranges over {int(target.min())}..{int(target.max())}; the model has "
                          f"{num_classes} classes (0..{num_classes - 1})")


def class_score(model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
    """The logit of each input's target class, shape (N,)."""
    out = logits(model, x)
    check_classes(target, out.shape[1])
    return out.gather(1, target.view(-1, 1)).squeeze(1)


def score_gradient(model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
    """d(logit of the target class)/dx for each input (the model should be `frozen`)."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(class_score(model, x, target).sum(), x)
    return grad
