"""Square attack: a gradient-free attack by random search (L-inf, untargeted).

Andriushchenko, Croce, Flammarion, Hein. Square attack: a query-efficient black-box adversarial
attack via random search. ECCV 2020, arXiv:1912.00049 (Algorithm 1 and its L-inf update). It never
reads a gradient, so masked or obfuscated gradients do not stop it: when it beats PGD at the same eps,
PGD's number is not a robustness number (AutoAttack's `check_square_sr`).

Start from vertical stripes (x + eps * a random sign per column and channel); at each query, one
window covering a share p of the pixels is set to x + eps * a random sign per input and channel, and
an input keeps the change if it lowers its margin loss z_y - max_{j != y} z_j. p follows the paper's
schedule from `p_init` (0.8, as in AutoAttack), rescaled to `queries`. One window position per query
for the batch (as the reference code does). Inputs are viewed as (C, H, W): a vector of D features is
(1, 1, D), where a window is a run of features. Only inputs still classified correctly are queried.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.errors import ConfigError

SCHEDULE = ((10, 1), (50, 2), (200, 4), (500, 8), (1000, 16), (2000, 32), (4000, 64), (6000, 128), (8000, 256))


def p_selection(query: int, queries: int, p_init: float) -> float:
    """The share of pixels a window covers at `query`: the paper's halving schedule over 10,000 queries,
    rescaled to `queries`."""
    it = int(query / queries * 10000)
    for last, divisor in SCHEDULE:
        if it <= last:
            return p_init / divisor
    return p_init / 512


def margin(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """z_y - max_{j != y} z_j per input: > 0 while the input is classified correctly."""
    z = model(x)
    true = z.gather(1, y[:, None])[:, 0]
    return true - z.scatter(1, y[:, None], float("-inf")).max(1).values


def _as_chw(shape: torch.Size) -> tuple[int, int, int]:
    if len(shape) == 3:
        c, h, w = shape
        return c, h, w
    if len(shape) == 2:
        return (1, *shape)
    return 1, 1, math.prod(shape)


@torch.no_grad()
def square(
    model: nn.Module, x: Tensor, y: Tensor, *, eps: float, queries: int, p_init: float = 0.8,
    bounds: tuple[float, float] = (0.0, 1.0), generator: torch.Generator | None = None,
) -> Tensor:
    """x changed by the Square attack within the L-inf ball of radius eps, with at most `queries` per input."""
    if not eps >= 0 or isinstance(queries, bool) or not isinstance(queries, int) or queries < 1 or not 0 < p_init <= 1:
        raise ConfigError(f"eps={eps}, queries={queries!r}, p_init={p_init}; expected eps >= 0, an integer "
                          "queries >= 1 and 0 < p_init <= 1")
    n, (c, h, w) = len(x), _as_chw(x.shape[1:])
    img = x.reshape(n, c, h, w)
    lo, hi = bounds

    def sign(*shape: int) -> Tensor:
        return torch.randint(0, 2, shape, generator=generator).to(device=x.device, dtype=x.dtype) * 2 - 1

    with frozen(model):
        best = (img + eps * sign(n, c, 1, w)).clamp(lo, hi)
        loss = margin(model, best.view_as(x), y)
        for query in range(1, queries):
            todo = torch.nonzero(loss > 0).flatten()
            if len(todo) == 0 or eps == 0:
                break
            area = max(1, round(p_selection(query, queries, p_init) * h * w))
            sh = min(h, max(1, round(math.sqrt(area))))
            sw = min(w, max(1, round(area / sh)))
            top = int(torch.randint(0, h - sh + 1, (1,), generator=generator))
            left = int(torch.randint(0, w - sw + 1, (1,), generator=generator))
            cand = best[todo].clone()
            window = (slice(None), slice(None), slice(top, top + sh), slice(left, left + sw))
            cand[window] = (img[todo][window] + eps * sign(len(todo), c, 1, 1)).clamp(lo, hi)
            new = margin(model, cand.view(len(todo), *x.shape[1:]), y[todo])
            better = new < loss[todo]
            loss[todo[better]] = new[better]
            best[todo[better]] = cand[better]
    return best.view_as(x)
