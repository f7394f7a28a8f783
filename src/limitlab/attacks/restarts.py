"""PGD with random restarts: the worst case over several random starts, as Madry et al. evaluate.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial attacks.
ICLR 2018, arXiv:1706.06083 (sec. 3: restarts from random points in the eps-ball find maxima a single
run misses; MNIST: 40 steps of 0.01 at eps 0.3, accuracy under 1 to 50 restarts). An input counts as
robust only if every restart leaves it unbroken, so each restart attacks only the inputs no earlier
restart broke, and inputs the model already gets wrong (or, targeted, already puts in the target class)
are not attacked at all, as AutoAttack does (Croce & Hein, ICML 2020): the cost falls with the accuracy.
Per input the result is the first restart's example that succeeds, else the last restart's (the input
itself when it was never attacked).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks.pgd import pgd
from limitlab.errors import ConfigError


@torch.no_grad()
def _succeeded(model: nn.Module, x: Tensor, y: Tensor, targeted: bool) -> Tensor:
    with frozen(model):
        pred = model(x).argmax(1)
    return pred == y if targeted else pred != y


def pgd_restarts(model: nn.Module, x: Tensor, y: Tensor, *, eps: float, steps: int, restarts: int,
                 step_size: float | None = None, step_ratio: float = 2.5, norm: str = "inf", targeted: bool = False,
                 bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None) -> Tensor:
    """`restarts` runs of `pgd(..., random_start=True)` (step size `step_size`, else step_ratio * eps / steps);
    success is a prediction other than `y`, or (targeted) the prediction `y`."""
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ConfigError(f"restarts={restarts!r}; expected an integer >= 1")
    out = x.clone()
    if eps == 0:
        return out
    size = step_size if step_size is not None else step_ratio * eps / steps
    todo = torch.nonzero(~_succeeded(model, x, y, targeted)).flatten()
    for _ in range(restarts):
        if len(todo) == 0:
            break
        adv = pgd(model, x[todo], y[todo], eps=eps, step_size=size, steps=steps, norm=norm, random_start=True,
                  targeted=targeted, bounds=bounds, generator=generator)
        out[todo] = adv
        todo = todo[~_succeeded(model, adv, y[todo], targeted)]
    return out
