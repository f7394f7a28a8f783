"""Fast gradient sign method (FGSM).

Goodfellow, Shlens, Szegedy. Explaining and harnessing adversarial examples. ICLR 2015,
arXiv:1412.6572. x_adv = clip(x + eps * sign(dJ(x, y)/dx)): the L-inf-bounded step that increases a
locally linear loss the most. Targeted: x - eps * sign(dJ(x, t)/dx), towards the target class t.
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks._common import check_inputs, clip_to_bounds, loss_gradient


def fgsm(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, bounds: tuple[float, float] = (0.0, 1.0),
    targeted: bool = False,
) -> Tensor:
    """One signed-gradient step of size `eps` in L-inf, clipped to `bounds`. `y` is the target if targeted."""
    check_inputs(x, y, bounds, eps=eps)
    with frozen(model):
        grad = loss_gradient(model, x, y, targeted=targeted)
    return (x + clip_to_bounds(x, eps * grad.sign(), bounds)).detach()
