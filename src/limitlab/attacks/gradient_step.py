"""The plain gradient step of the notes: x <- x + eta * dJ/dx.

"How does a small change in the input increase our loss": one step of gradient ascent on the loss J
in input space (source 002). With `normalize=True` the step is eta * g / ||g||_2 per input, so eta is
the L2 size of the perturbation: the fast gradient method (FGM) of Goodfellow et al. (2015) in L2,
comparable across inputs whose gradients differ in size.
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.attacks._common import check_inputs, clip_to_bounds, l2_normalize, loss_gradient


def gradient_step(
    model: nn.Module, x: Tensor, y: Tensor, *, eta: float, normalize: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0), targeted: bool = False,
) -> Tensor:
    """x + eta * dJ/dx (or eta times the unit-L2 gradient), clipped to `bounds`. `y` is the target if targeted."""
    bounds = check_inputs(model, x, y, bounds, eta=eta)
    normalize, targeted = _checks.flag("normalize", normalize), _checks.flag("targeted", targeted)
    with frozen(model):
        grad = loss_gradient(model, x, y)
    if targeted:
        grad = -grad
    step = l2_normalize(grad) if normalize else grad
    return (x + clip_to_bounds(x, eta * step, bounds)).detach()
