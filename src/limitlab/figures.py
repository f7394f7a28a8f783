"""Figures as data. A study describes each figure with these panel builders; the report renders them.

Keeping figures as plain data means every figure's numbers are in `results.json`, the report can be
re-rendered without re-running anything, and the report layer never needs torch.
Panel kinds: `lines`, `bars`, `hist`, `images`, `matrix`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from limitlab.result import Figure, to_plain

__all__ = ["Figure", "bars", "hist", "images", "lines", "matrix", "series"]


def series(label: str, x: Any, y: Any, *, lo: Any = None, hi: Any = None, style: str = "line+points",
           weights: Any = None) -> dict:
    """One line of a `lines` panel; `lo`/`hi` draw a band (e.g. mean +- std over seeds); `weights`
    (e.g. counts) scale each point's marker area, so sparse points do not look as loud as dense ones."""
    return to_plain({"label": label, "x": x, "y": y, "lo": lo, "hi": hi, "style": style, "weights": weights})


def lines(
    data: Sequence[dict], *, title: str = "", xlabel: str = "", ylabel: str = "",
    xscale: str = "linear", yscale: str = "linear", ylim: tuple[float, float] | None = None,
    hlines: Sequence[dict] = (), vspans: Sequence[dict] = (),
) -> dict:
    """Line plot. `hlines`: [{"y", "label"}] reference levels; `vspans`: [{"x0", "x1", "label"}] shaded ranges."""
    return to_plain({"kind": "lines", "series": list(data), "title": title, "xlabel": xlabel,
                     "ylabel": ylabel, "xscale": xscale, "yscale": yscale, "ylim": ylim,
                     "hlines": list(hlines), "vspans": list(vspans)})


def bars(
    categories: Sequence[str], groups: Sequence[dict], *, title: str = "", ylabel: str = "",
    ylim: tuple[float, float] | None = None,
) -> dict:
    """Grouped bars: `groups` = [{"label", "values", "err"?}], one value per category."""
    return to_plain({"kind": "bars", "categories": list(categories), "groups": list(groups),
                     "title": title, "ylabel": ylabel, "ylim": ylim})


def hist(
    samples: Sequence[dict], *, title: str = "", xlabel: str = "", bins: int = 20,
    range: tuple[float, float] | None = None,
) -> dict:
    """Overlaid normalized histograms: `samples` = [{"label", "values"}]."""
    return to_plain({"kind": "hist", "samples": list(samples), "title": title, "xlabel": xlabel,
                     "bins": bins, "range": range})


def images(
    data: Any, *, captions: Sequence[str] = (), ncols: int = 8, title: str = "", cmap: str = "gray_r",
    vmin: float | None = 0.0, vmax: float | None = 1.0, overlays: Any = None,
    overlay_cmap: str = "jet", row_labels: Sequence[str] = (),
) -> dict:
    """A grid of 2-D images (H x W each), with optional per-image captions and heatmap overlays."""
    return to_plain({"kind": "images", "images": data, "captions": list(captions), "ncols": ncols,
                     "title": title, "cmap": cmap, "vmin": vmin, "vmax": vmax, "overlays": overlays,
                     "overlay_cmap": overlay_cmap, "row_labels": list(row_labels)})


def matrix(
    values: Any, *, rows: Sequence[str], cols: Sequence[str], title: str = "", xlabel: str = "",
    ylabel: str = "", fmt: str = ".2f", cmap: str = "viridis", vmin: float | None = None,
    vmax: float | None = None,
) -> dict:
    """An annotated heatmap of a 2-D table of numbers (e.g. a targeted-attack success matrix)."""
    return to_plain({"kind": "matrix", "values": values, "rows": list(rows), "cols": list(cols),
                     "title": title, "xlabel": xlabel, "ylabel": ylabel, "fmt": fmt, "cmap": cmap,
                     "vmin": vmin, "vmax": vmax})
