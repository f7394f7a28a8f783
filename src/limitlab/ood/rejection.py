"""Accuracy vs rejection rate: selective prediction with an uncertainty score.

El-Yaniv, Wiener. On the foundations of noise-free selective classification. JMLR 2010; Geifman,
El-Yaniv. Selective classification for deep neural networks. NeurIPS 2017, arXiv:1705.08500.
Reject the fraction r of inputs with the highest uncertainty and measure accuracy on the rest. A
useful score gives a curve that rises with r; a useless one stays flat at the overall accuracy.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from limitlab.errors import ConfigError, DataError
from limitlab.ood._scores import as_scores

RATES = tuple(i / 20 for i in range(19))  # 0, 0.05, ..., 0.9


def rejection_curve(uncertainty, correct, *, rates: Sequence[float] = RATES) -> tuple[list[float], list[float]]:
    """(rates, accuracy on the kept inputs) after rejecting the `rate` most uncertain inputs.

    Keeps ceil((1 - rate) * N) inputs, at least one; ties in the score are broken by input order.
    """
    u = as_scores(uncertainty, "uncertainty")
    ok = correct.detach().cpu().numpy() if isinstance(correct, torch.Tensor) else np.asarray(correct)
    if ok.shape != u.shape:
        raise DataError(f"correct has shape {ok.shape}, uncertainty {u.shape}; expected one flag per input")
    if any(not 0 <= r < 1 for r in rates):
        raise ConfigError(f"rates={tuple(rates)}; expected values in [0, 1)")
    order = np.argsort(u, kind="stable")  # most certain first
    hits = np.cumsum(ok[order].astype(np.float64))
    kept = [max(1, int(np.ceil((1 - r) * len(u) - 1e-9))) for r in rates]
    return [float(r) for r in rates], [float(hits[k - 1] / k) for k in kept]
