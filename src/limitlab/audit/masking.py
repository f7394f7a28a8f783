"""Symptoms of gradient masking, from the counts of inputs each attack left classified correctly.

Athalye, Carlini, Wagner. Obfuscated gradients give a false sense of security. ICML 2018,
arXiv:1802.00420, sec. 3.1 ("characteristic behaviors": one-step attacks doing better than iterative
ones, black-box better than white-box, unbounded attacks not reaching 100% success, random sampling
finding adversarial examples, a larger distortion bound not increasing success); Carlini et al. On
evaluating adversarial robustness, arXiv:1902.06705 (the same checklist); AutoAttack's zero-gradient
and Square checks (Croce, Hein 2020). Each symptom is a flag; any one of them makes the robustness
number an upper bound nobody should quote, and the verdict "unreliable".

"a beats b" means a leaves at least `margin(n) = max(2, ceil(1% of n))` fewer inputs correct than b at
the same eps, each attack on its own: a gap of a single input, or of under 1% of them, is not read as a
symptom. (Square is compared with PGD head to head, where it ran: that it fools a few inputs PGD left
correct is what any second attack does, and is what the worst case over the attacks is for.)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

FLAGS = {
    "zero_grad": "the loss gradient is zero or NaN on more than 1% of the inputs (or absent)",
    "fgsm_no_effect": "FGSM lowers the accuracy at no eps of the grid",
    "fgsm_beats_pgd": "one FGSM step beats PGD at some eps",
    "noise_beats_pgd": "random sign noise beats PGD at some eps",
    "square_beats_pgd": "the gradient-free Square attack, on its own, beats PGD at some eps",
    "unbounded_pgd_fails": "PGD over the whole input box (eps = the full range) does not reach 0% accuracy",
    "pgd_not_monotone": "PGD accuracy rises with eps somewhere",
}


def margin(n: int) -> int:
    return max(2, math.ceil(0.01 * n))


def flags(counts: Mapping[str, Sequence[int]], *, n: int, bad_gradient_share: float,
          max_bad: float) -> dict[str, bool | None]:
    """Each flag from `counts[attack][k]`, the inputs left correct at grid eps k (k = 0: clean, the last:
    the whole box; Square's count is the clean one where it did not run). Flags about PGD or FGSM are None
    when the model has no gradient path (they could not run)."""
    d = margin(n)
    out: dict[str, bool | None] = {"zero_grad": bad_gradient_share > max_bad}
    pgd, fgsm, noise = counts.get("pgd"), counts.get("fgsm"), counts["noise"]
    clean = noise[0]
    if pgd is None or fgsm is None:
        return {**out, **{k: None for k in FLAGS if k != "zero_grad"}}
    k = range(1, len(pgd))
    out["fgsm_no_effect"] = all(clean - fgsm[i] < d for i in k[:-1])  # over the grid: at the whole box any
    # large change (even in a wrong direction) can flip an input, which says nothing about the gradient
    out["fgsm_beats_pgd"] = any(pgd[i] - fgsm[i] >= d for i in k)
    out["noise_beats_pgd"] = any(pgd[i] - noise[i] >= d for i in k)
    out["square_beats_pgd"] = any(pgd[i] - counts["square"][i] >= d for i in k)
    out["unbounded_pgd_fails"] = pgd[-1] >= d
    out["pgd_not_monotone"] = any(pgd[j] - pgd[i] >= d for i in k for j in k if j > i)
    return out
