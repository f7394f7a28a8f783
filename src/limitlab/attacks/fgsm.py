"""Fast gradient sign method (FGSM).

Goodfellow, Shlens, Szegedy. Explaining and harnessing adversarial examples. ICLR 2015,
arXiv:1412.6572. x_adv = clip(x + eps * sign(dJ(x, y)/dx)): the L-inf-bounded step that increases a
locally linear loss the most. Targeted: x - eps * sign(dJ(x, t)/dx), towards the target class t.
It is PGD with one step of size eps and no random start (the projection onto the eps-ball is then
the identity), so it runs through `pgd`'s loop.
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab.attacks.pgd import pgd


def fgsm(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, bounds: tuple[float, float] = (0.0, 1.0),
    targeted: bool = False,
) -> Tensor:
    """One signed-gradient step of size `eps` in L-inf, clipped to `bounds`. `y` is the target if targeted."""
    return pgd(model, x, y, eps=eps, step_size=eps, steps=1, bounds=bounds, targeted=targeted)
