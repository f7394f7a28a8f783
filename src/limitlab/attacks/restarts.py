"""PGD with random restarts: the worst case over several random starts, as Madry et al. evaluate.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial attacks.
ICLR 2018, arXiv:1706.06083 (MNIST: 40 steps of 0.01 at eps 0.3 from a random start; accuracy under
1, 20 and 50 restarts). An input counts as robust only if it survives every restart: for each input
the result is the first restart's example that the model gets wrong (else the last restart's).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attacks.pgd import pgd
from limitlab.errors import ConfigError


def pgd_restarts(model: nn.Module, x: Tensor, y: Tensor, *, eps: float, step_size: float, steps: int, restarts: int,
                 norm: str = "inf", targeted: bool = False, bounds: tuple[float, float] = (0.0, 1.0),
                 generator: torch.Generator | None = None) -> Tensor:
    """`restarts` runs of `pgd(..., random_start=True)`; per input the first example that succeeds.
    Success: a prediction other than `y`, or (targeted) the prediction `y`."""
    if restarts < 1:
        raise ConfigError(f"restarts={restarts}; expected >= 1")
    best = x
    todo = torch.ones(len(x), dtype=torch.bool)  # inputs no restart has broken yet
    for _ in range(restarts):
        idx = todo.nonzero()[:, 0]
        if not len(idx):
            break
        adv = pgd(model, x[idx], y[idx], eps=eps, step_size=step_size, steps=steps, norm=norm, random_start=True,
                  targeted=targeted, bounds=bounds, generator=generator)
        with frozen(model), torch.no_grad():
            pred = model(adv).argmax(1)
        done = pred == y[idx] if targeted else pred != y[idx]
        best = best.clone()
        best[idx] = adv
        todo[idx[done]] = False
    return best
