"""Render a `Figure` (plain data, see `limitlab.figures`) to a PNG with matplotlib. No torch here."""
from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from limitlab.result import Figure

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]


def _arr(values: Any) -> Any:  # an array, or None for a missing optional series
    return np.array([np.nan if v is None else v for v in values], dtype=float) if values is not None else None


def _lines(ax, p: dict) -> None:
    for i, s in enumerate(p["series"]):
        color = PALETTE[i % len(PALETTE)]
        x, y = _arr(s["x"]), _arr(s["y"])
        marker = "o" if "points" in s.get("style", "line") else None
        ls = "-" if "line" in s.get("style", "line") else "none"
        if s.get("weights") is not None:
            w = _arr(s["weights"])
            ax.plot(x, y, linestyle=ls, color=color, lw=1.2, alpha=0.6)
            ax.scatter(x, y, s=12 + 300 * w / max(np.nanmax(w), 1e-12), color=color, alpha=0.75,
                       label=s["label"], zorder=3)
        else:
            ax.plot(x, y, linestyle=ls, marker=marker, ms=3.5, color=color, label=s["label"], lw=1.6)
        if s.get("lo") is not None and s.get("hi") is not None:
            ax.fill_between(x, _arr(s["lo"]), _arr(s["hi"]), color=color, alpha=0.18, lw=0)
    for h in p.get("hlines", []):
        ax.axhline(h["y"], color="0.45", ls="--", lw=1)
        if h.get("label"):
            ax.annotate(h["label"], (1, h["y"]), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                        fontsize=8, color="0.35")
    for v in p.get("vspans", []):
        ax.axvspan(v["x0"], v["x1"], color="0.85", alpha=0.5, lw=0, label=v.get("label"))
    xs = [v for s in p["series"] for v in s["x"] if v is not None]
    if xs and p.get("xscale", "linear") == "linear" and all(float(v).is_integer() for v in xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts (layers, epochs) get whole ticks
    ax.set_xscale(p.get("xscale", "linear"))
    ax.set_yscale(p.get("yscale", "linear"))
    if p.get("ylim"):
        ax.set_ylim(*p["ylim"])
    if p["series"]:
        ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)


def _bars(ax, p: dict) -> None:
    cats, groups = p["categories"], p["groups"]
    width = 0.8 / max(len(groups), 1)
    x = np.arange(len(cats))
    for i, g in enumerate(groups):
        err = _arr(g.get("err")) if g.get("err") is not None else None
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, _arr(g["values"]), width, yerr=err, capsize=2,
               label=g["label"], color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, cats, rotation=20 if max(map(len, cats), default=0) > 8 else 0, ha="right"
                  if max(map(len, cats), default=0) > 8 else "center")
    if p.get("ylim"):
        ax.set_ylim(*p["ylim"])
    if len(groups) > 1:  # framed: bars often fill the spot the legend lands on
        ax.legend(fontsize=8, framealpha=0.9, edgecolor="0.8")
    ax.grid(axis="y", alpha=0.3)


def _hist(ax, p: dict) -> None:
    for i, s in enumerate(p["samples"]):
        ax.hist(_arr(s["values"]), bins=p.get("bins", 20), range=p.get("range"), density=True,
                histtype="stepfilled" if i == 0 else "step", alpha=0.35 if i == 0 else 1.0, lw=1.6,
                color=PALETTE[i % len(PALETTE)], label=s["label"])
    ax.legend(fontsize=8, frameon=False)
    ax.set_ylabel("density")


def _matrix(ax, p: dict) -> None:
    values = np.array([[np.nan if v is None else v for v in row] for row in p["values"]], dtype=float)
    im = ax.imshow(values, cmap=p.get("cmap", "viridis"), vmin=p.get("vmin"), vmax=p.get("vmax"), aspect="auto")
    ax.set_xticks(range(len(p["cols"])), p["cols"])
    ax.set_yticks(range(len(p["rows"])), p["rows"])
    if values.size <= 400:
        lo, hi = np.nanmin(values), np.nanmax(values)
        for (i, j), v in np.ndenumerate(values):
            if not math.isnan(v):
                dark = (v - lo) / (hi - lo + 1e-12) < 0.5
                ax.text(j, i, format(v, p.get("fmt", ".2f")), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


DRAW = {"lines": _lines, "bars": _bars, "hist": _hist, "matrix": _matrix}


def _images(fig, spec, p: dict) -> None:
    imgs = p["images"]
    ncols = min(p.get("ncols", 8), len(imgs)) or 1
    nrows = math.ceil(len(imgs) / ncols)
    grid = spec.subgridspec(nrows, ncols, wspace=0.08, hspace=0.35)
    overlays = p.get("overlays")
    for k, img in enumerate(imgs):
        ax = fig.add_subplot(grid[k // ncols, k % ncols])
        ax.imshow(_2d(img), cmap=p.get("cmap", "gray_r"), vmin=p.get("vmin"), vmax=p.get("vmax"),
                  interpolation="nearest")
        if overlays is not None and overlays[k] is not None:
            ax.imshow(_2d(overlays[k]), cmap=p.get("overlay_cmap", "jet"), alpha=0.45, interpolation="bilinear")
        ax.set_xticks([])
        ax.set_yticks([])
        if k < len(p.get("captions", [])):
            ax.set_title(p["captions"][k], fontsize=7, pad=2)
        if k % ncols == 0 and k // ncols < len(p.get("row_labels", [])):
            ax.set_ylabel(p["row_labels"][k // ncols], fontsize=8)


def _2d(img: Any) -> np.ndarray:
    a = np.array([[np.nan if v is None else v for v in row] for row in _squeeze(img)], dtype=float)
    return a


def _squeeze(img: Any) -> Any:
    while isinstance(img, list) and len(img) == 1 and isinstance(img[0], list) and isinstance(img[0][0], list):
        img = img[0]
    return img


def _panel_size(p: dict) -> tuple[float, float]:
    if p["kind"] == "images":
        ncols = min(p.get("ncols", 8), len(p["images"])) or 1
        nrows = math.ceil(len(p["images"]) / ncols)
        return 1.05 * ncols + 0.3, 1.15 * nrows + 0.4
    return 4.6, 3.4


def render(figure: Figure) -> bytes:
    """The figure as PNG bytes: panels side by side (at most three a row)."""
    panels = figure.panels
    per_row = min(3, len(panels)) if all(p["kind"] != "images" for p in panels) else 1
    nrows = math.ceil(len(panels) / per_row)
    sizes = [_panel_size(p) for p in panels]
    width = max(sum(w for w, _ in sizes[r * per_row:(r + 1) * per_row]) for r in range(nrows))
    height = sum(max(h for _, h in sizes[r * per_row:(r + 1) * per_row]) for r in range(nrows)) + 0.5
    fig = plt.figure(figsize=(min(width, 16), height), dpi=110, layout="constrained")
    outer = fig.add_gridspec(nrows, per_row)
    for k, p in enumerate(panels):
        cell = outer[k // per_row, k % per_row]
        if p["kind"] == "images":
            sub = fig.add_subfigure(cell)
            sub.suptitle(p.get("title", ""), fontsize=10)
            _images(sub, sub.add_gridspec(1, 1)[0], p)
            continue
        ax = fig.add_subplot(cell)
        DRAW[p["kind"]](ax, p)
        ax.set_title(p.get("title", ""), fontsize=10)
        ax.set_xlabel(p.get("xlabel", ""))
        if p.get("ylabel"):
            ax.set_ylabel(p["ylabel"])
    fig.suptitle(figure.title, fontsize=12, fontweight="bold")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
