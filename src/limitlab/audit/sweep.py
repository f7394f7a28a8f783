"""One step of the robustness sweep: every attack at one eps, on the unit box of the bounds.

FGSM (Goodfellow et al. 2015), PGD with random restarts (Madry et al. 2018), random sign noise, and
the Square attack (Andriushchenko et al. 2020) on the inputs PGD left correct: AutoAttack's order
(Croce, Hein 2020), where a later attack only has to work on what the earlier ones did not fool. Each
attack draws from its own named stream, so changing one (its queries, restarts) never changes another.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.noise import random_sign
from limitlab.attacks.restarts import pgd_restarts
from limitlab.attacks.square import square
from limitlab.audit.subject import Subject, outputs_of
from limitlab.context import Context


def each(fn, *tensors: Tensor, batch: int) -> Tensor:
    """fn over `batch`-sized chunks of the tensors, concatenated (memory stays flat in N)."""
    return torch.cat([fn(*(t[i:i + batch] for t in tensors)) for i in range(0, len(tensors[0]), batch)])


def sweep(s: Subject, eps: float, cfg, ctx: Context, *, gradient: bool, with_square: bool,
          keep: dict[str, Tensor] | None = None) -> dict[str, Tensor]:
    """Per attack, which inputs it leaves classified correctly at eps (clean-correct ones only); FGSM and PGD
    only with a `gradient` path; Square (if `with_square`) on every clean-correct input, on its own: the
    masking symptom compares a black-box attack with a white-box one head to head (Athalye et al. 2018), not
    their union, which any second attack improves a little; without Square, its entry is the clean
    correctness (nothing attacked). `keep`, if given, receives PGD's inputs (unit box) under "pgd", for the
    report's examples: nothing is attacked twice."""
    model, u, y, b = s.unit, s.u, s.y, s.batch_size
    clean = s.logits.argmax(1) == y
    right = lambda adv: clean & (outputs_of(model, adv, batch=b).argmax(1) == y)  # noqa: E731
    gen = {a: ctx.generator("robustness", a, eps) for a in ("pgd", "noise", "square")}
    out = {"noise": right(each(lambda a: random_sign(a, eps=eps, generator=gen["noise"]), u, batch=b))}
    if gradient:
        out["fgsm"] = right(each(lambda a, t: fgsm(model, a, t, eps=eps), u, y, batch=b))
        adv = each(lambda a, t: pgd_restarts(
            model, a, t, eps=eps, steps=cfg.pgd_steps, restarts=cfg.pgd_restarts, step_ratio=cfg.step_ratio,
            generator=gen["pgd"]), u, y, batch=b)
        out["pgd"] = right(adv)
        if keep is not None:
            keep["pgd"] = adv
    out["square"] = clean.clone()
    if with_square and clean.any():
        idx = torch.nonzero(clean).flatten()
        adv = each(lambda a, t: square(model, a, t, eps=eps, queries=cfg.square_queries, p_init=cfg.square_p_init,
                                       generator=gen["square"]), u[idx], y[idx], batch=b)
        out["square"][idx] = outputs_of(model, adv, batch=b).argmax(1) == y[idx]
    return out
