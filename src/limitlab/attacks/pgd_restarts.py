"""PGD with random restarts, attacking only what is still classified correctly.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial
attacks. ICLR 2018, arXiv:1706.06083 (sec. 3: restarts from random points in the eps-ball find
maxima a single run misses). An input counts as robust only if every restart leaves it classified
correctly, so each restart after the first attacks only the inputs no earlier restart fooled, and
inputs misclassified to begin with are not attacked at all (as AutoAttack does, Croce & Hein 2020):
the cost falls with the accuracy. Each restart is `limitlab.attacks.pgd` with a random start and
step size `step_ratio * eps / steps`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks.pgd import pgd
from limitlab.errors import ConfigError


@torch.no_grad()
def _correct(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    with frozen(model):
        return model(x).argmax(1) == y


def pgd_restarts(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, steps: int, restarts: int, step_ratio: float = 2.5,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
) -> Tensor:
    """L-inf PGD with `restarts` random starts: for each input, the first adversarial point found (else the
    last restart's point; the input itself if it was misclassified or eps is 0)."""
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ConfigError(f"restarts={restarts!r}; expected an integer >= 1")
    out = x.clone()
    if eps == 0:
        return out
    todo = torch.nonzero(_correct(model, x, y)).flatten()
    for _ in range(restarts):
        if len(todo) == 0:
            break
        adv = pgd(model, x[todo], y[todo], eps=eps, step_size=step_ratio * eps / steps, steps=steps,
                  random_start=True, bounds=bounds, generator=generator)
        out[todo] = adv
        todo = todo[_correct(model, adv, y[todo])]
    return out
