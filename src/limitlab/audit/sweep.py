"""One step of the robustness sweep: every attack at one eps, on the unit box of the bounds.

FGSM (Goodfellow et al. 2015), PGD with random restarts (Madry et al. 2018), random sign noise, and
the gradient-free Square attack (Andriushchenko et al. 2020), each on its own; the robustness section
takes the worst case over them, as AutoAttack does (Croce, Hein 2020). Each attack draws from its own
named stream, so changing one (its queries, restarts) never changes another.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.noise import random_sign
from limitlab.attacks.restarts import pgd_restarts
from limitlab.attacks.square import square
from limitlab.audit.examples import Gallery
from limitlab.audit.subject import Subject, outputs_of
from limitlab.context import Context


def each(fn, *tensors: Tensor, batch: int) -> Tensor:
    """fn over `batch`-sized chunks of the tensors, concatenated."""
    return torch.cat([fn(*(t[i:i + batch] for t in tensors)) for i in range(0, len(tensors[0]), batch)])


def survivors(model: nn.Module, attack, x: Tensor, y: Tensor, *, batch: int,
              offer: Callable[[Tensor, Tensor, Tensor], None] | None = None) -> Tensor:
    """Which inputs the model still classifies right after `attack(x_chunk, y_chunk)`, chunk by chunk: only
    one batch of changed inputs lives at a time, so memory stays flat in N. `offer(rows, logits, changed)`
    sees each chunk (e.g. to keep the most confidently wrong ones for the report)."""
    out = []
    for i in range(0, len(x), batch):
        changed = attack(x[i:i + batch], y[i:i + batch])
        logits = outputs_of(model, changed, batch=batch)
        if offer is not None:
            offer(torch.arange(i, i + len(changed)), logits, changed)
        out.append(logits.argmax(1) == y[i:i + batch])
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def sweep(s: Subject, eps: float, cfg, ctx: Context, *, gradient: bool, with_square: bool,
          keep: Gallery | None = None) -> dict[str, Tensor]:
    """Per attack, which inputs it leaves classified correctly at eps (clean-correct ones only); FGSM and PGD
    only with a `gradient` path; Square (if `with_square`) on every clean-correct input, on its own: the
    masking symptom compares a black-box attack with a white-box one head to head (Athalye et al. 2018), not
    their union, which any second attack improves a little; without Square, its entry is the clean
    correctness (nothing attacked). `keep`, if given, is offered PGD's inputs (unit box) batch by batch, for
    the report's examples: nothing is attacked twice."""
    model, u, y, b = s.unit, s.u, s.y, s.batch_size
    clean = s.logits.argmax(1) == y
    gen = {a: ctx.generator("robustness", a, eps) for a in ("pgd", "noise", "square")}
    out = {"noise": clean & survivors(model, lambda a, t: random_sign(a, eps=eps, generator=gen["noise"]), u, y,
                                      batch=b)}
    if gradient:
        out["fgsm"] = clean & survivors(model, lambda a, t: fgsm(model, a, t, eps=eps), u, y, batch=b)
        offer = None if keep is None else (lambda rows, z, adv: keep.offer(rows, z, y[rows], adv, "pgd", clean[rows]))
        out["pgd"] = clean & survivors(model, lambda a, t: pgd_restarts(
            model, a, t, eps=eps, steps=cfg.pgd_steps, restarts=cfg.pgd_restarts, step_ratio=cfg.step_ratio,
            generator=gen["pgd"]), u, y, batch=b, offer=offer)
    out["square"] = clean.clone()
    if with_square and clean.any():
        idx = torch.nonzero(clean).flatten()
        out["square"][idx] = survivors(model, lambda a, t: square(
            model, a, t, eps=eps, queries=cfg.square_queries, p_init=cfg.square_p_init, generator=gen["square"]),
            u[idx], y[idx], batch=b)
    return out
