"""Uncertainty scores from logits, in float64: max softmax, energy and max logit (higher = more uncertain).

Hendrycks, Gimpel. ICLR 2017, arXiv:1610.02136 (max softmax); Liu, Wang, Owens, Li. Energy-based
out-of-distribution detection. NeurIPS 2020, arXiv:2010.03759 (E(x) = -logsumexp_c z_c);
Hendrycks et al. Scaling out-of-distribution detection for real-world settings. ICML 2022,
arXiv:1911.11132 (max logit). The max-softmax score is -log max_c softmax(z)_c, computed from the
logits in float64 as log(1 + sum_{c != top} exp(z_c - z_top)) (exact for margins up to ~700, where
logsumexp(z) - max(z) cancels to 0 beyond ~35). In float32 the softmax of every confident input rounds
to exactly 1.0, and tied scores make AUROC depend on the order of the ties, not on the model.
Energy and max logit need logits as such: from probabilities or log-probabilities (z known only up to
a constant per input) they are not defined (`logits=False` leaves them out).
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.errors import DataError

SCORES = ("max-softmax", "energy", "max-logit")


def uncertainty_scores(z: Tensor, *, logits: bool = True) -> dict[str, Tensor]:
    """name -> (N,) float64 scores from (N, C) logits `z` (or log-probabilities, with `logits=False`)."""
    if z.dim() != 2 or z.shape[1] < 2:
        raise DataError(f"z has shape {tuple(z.shape)}; expected (N, C) logits with C >= 2")
    z = z.detach().double()
    top, arg = z.max(dim=1)
    rest = torch.exp(z - top[:, None]).scatter(1, arg[:, None], 0.0).sum(1)  # every class but the top one
    out = {"max-softmax": torch.log1p(rest)}  # = logsumexp(z) - max(z), without cancelling at large margins
    lse = top + out["max-softmax"]
    if logits:
        out.update({"energy": -lse, "max-logit": -top})
    return out
