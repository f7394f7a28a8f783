"""The reliability diagram as a figure panel (Guo et al. ICML 2017, arXiv:1706.04599, Fig. 1).

Per equal-width confidence bin, the accuracy of the predictions in it against their mean confidence,
one line per set of probabilities (e.g. before and after temperature scaling), each point's marker area
proportional to the bin's count (most predictions of a good classifier sit in the top bin), and the
diagonal of perfect calibration. Points below the diagonal: more confident than accurate.
"""
from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from limitlab import figures
from limitlab.calibration.ece import ece, reliability


def reliability_panel(probs: Mapping[str, Tensor], y: Tensor, *, bins: int = 15, title: str = "") -> dict:
    """A `figures.lines` panel of the reliability curves of each labelled (N, C) probability matrix; each label
    gets its ECE appended."""
    curves = []
    for label, p in probs.items():
        r = reliability(p, y, bins=bins)
        keep = r.counts > 0
        curves.append(figures.series(f"{label}: ECE {ece(p, y, bins=bins):.3f}", r.confidence[keep], r.accuracy[keep],
                                     weights=r.counts[keep]))
    curves.append(figures.series("perfect calibration", [0, 1], [0, 1], style="line"))
    return figures.lines(curves, title=title, xlabel="confidence (bin mean)", ylabel="accuracy in bin",
                         ylim=(0, 1.02))
