"""Accuracy vs rejection rate: selective prediction with an uncertainty score.

El-Yaniv, Wiener. On the foundations of noise-free selective classification. JMLR 2010; Geifman,
El-Yaniv. Selective classification for deep neural networks. NeurIPS 2017, arXiv:1705.08500.
Reject the fraction r of inputs with the highest uncertainty and measure accuracy on the rest. A
useful score gives a curve that rises with r; a useless one stays flat at the overall accuracy.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from limitlab import _checks
from limitlab.errors import ConfigTypeError, DataError
from limitlab.ood._scores import Scores, as_array, as_scores

RATES = tuple(i / 20 for i in range(19))  # 0, 0.05, ..., 0.9


def rejection_curve(uncertainty: Scores, correct: Scores, *, rates: Sequence[float] = RATES
                    ) -> tuple[list[float], list[float]]:
    """(rates, accuracy on the kept inputs) after rejecting the `rate` most uncertain inputs.

    Keeps ceil((1 - rate) * N) inputs, at least one; ties in the score are broken by input order.
    """
    u = as_scores(uncertainty, "uncertainty")
    ok = as_array(correct, "correct")
    if ok.shape != u.shape or not np.isin(ok, (0.0, 1.0)).all():
        raise DataError(f"correct has shape {ok.shape} and values {np.unique(ok)[:5]}; expected one flag per input "
                        f"(shape {u.shape}, True/False or 1/0), e.g. pred == y")
    if not isinstance(rates, (Sequence, np.ndarray)) or isinstance(rates, str):
        raise ConfigTypeError(f"rates={_checks.shown(rates)}; expected a sequence of rejection rates in [0, 1), "
                              "e.g. (0, 0.1, 0.5)")
    rates = [_checks.number(f"rates[{i}]", r, low=0, high=1, high_open=True) for i, r in enumerate(rates)]
    order = np.argsort(u, kind="stable")  # most certain first
    hits = np.cumsum(ok[order])
    kept = [max(1, int(np.ceil((1 - r) * len(u) - 1e-9))) for r in rates]
    return [float(r) for r in rates], [float(hits[k - 1] / k) for k in kept]
