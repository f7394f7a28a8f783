"""A reliability diagram's points as a figure series (Guo, Pleiss, Sun, Weinberger. ICML 2017, fig. 1).

One series per predictor: the mean confidence and the accuracy of each non-empty bin, with the bin's
size as the marker weight, labelled with its ECE; `diagonal()` is the perfectly calibrated line.
"""
from __future__ import annotations

from torch import Tensor

from limitlab import figures
from limitlab.calibration.ece import ece, reliability


def reliability_series(probs: Tensor, y: Tensor, *, bins: int = 15, label: str) -> dict:
    r = reliability(probs, y, bins=bins)
    keep = r.counts > 0
    return figures.series(f"{label}: ECE {ece(probs, y, bins=bins):.3f}", r.confidence[keep], r.accuracy[keep],
                          weights=r.counts[keep])


def diagonal() -> dict:
    return figures.series("perfect calibration", [0, 1], [0, 1], style="line")
