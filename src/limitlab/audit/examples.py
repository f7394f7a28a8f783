"""The examples a report shows: the most confidently wrong changed inputs, as pictures or as feature changes.

A `Gallery` keeps the `k` most confident wrong predictions offered to it (at most one per input, so the
same input under several changes shows once), batch by batch: memory stays at k inputs whatever N.
Images are shown in the unit box of their bounds (grey for one channel, RGB for three, the channel
mean otherwise; at most 64 pixels a side); a table's example is a bar panel of its most changed
features, each change in units of that feature's range.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from limitlab import figures


@dataclass(frozen=True)
class Example:
    confidence: float
    index: int  # the input's position in the data
    label: int
    pred: int
    changed: Tensor  # the changed input, in the unit box
    tag: str  # what changed it (a corruption's name, an attack)


class Gallery:
    """The `k` most confidently wrong inputs offered so far (ties: the earlier input first)."""

    def __init__(self, k: int) -> None:
        self.k, self.items = k, list[Example]()

    def offer(self, index: Tensor, logits: Tensor, y: Tensor, changed: Tensor, tag: str, eligible: Tensor) -> None:
        """Inputs `index` changed into `changed`, with the model's `logits` on them; only `eligible` ones
        (e.g. right before the change) that are now wrong count."""
        conf, pred = torch.softmax(logits.double(), 1).max(1)
        wrong = torch.nonzero(eligible & (pred != y)).flatten()
        best = wrong[conf[wrong].argsort(descending=True, stable=True)[:self.k]]
        self.items += [Example(float(conf[j]), int(index[j]), int(y[j]), int(pred[j]), changed[j].detach().clone(),
                               tag) for j in best.tolist()]
        kept: list[Example] = []
        for e in sorted(self.items, key=lambda e: (-e.confidence, e.index)):
            if all(e.index != k.index for k in kept):  # one example per input: its most confident wrong change
                kept.append(e)
        self.items = kept[:self.k]


SIDE = 64  # pictures larger than this are averaged down to it: a thumbnail, and results.json stays small


def picture(u: Tensor, *, offset: float = 0.0, scale: float = 1.0) -> Tensor:
    """One input C x H x W (unit box) as an image the report draws: H x W, or H x W x 3 for colour; shown as
    offset + scale * u, averaged down to at most SIDE pixels a side, rounded to 3 decimals (the numbers
    travel in results.json)."""
    v = offset + scale * u.detach().double()
    if max(v.shape[1:]) > SIDE:
        f = SIDE / max(v.shape[1:])
        v = F.interpolate(v[None], size=(max(1, int(v.shape[1] * f)), max(1, int(v.shape[2] * f))), mode="area")[0]
    v = v[0] if len(v) == 1 else v.permute(1, 2, 0) if len(v) == 3 else v.mean(0)
    return torch.round(v * 1000) / 1000


def image_row(title: str, pictures: list[Tensor], captions: list[str], *, cmap: str = "gray", vmin: float = 0.0,
              vmax: float = 1.0) -> dict:
    return figures.images(pictures, captions=captions, ncols=len(pictures), title=title, cmap=cmap, vmin=vmin,
                          vmax=vmax)


def feature_bars(delta: Tensor, title: str, *, top: int = 8, order: Tensor | None = None) -> dict:
    """A bar panel of one input's `top` most changed features (`delta` in units of each feature's range), or of
    the `top` features largest by `order` (e.g. their share of the change in the model's decision)."""
    rank = (delta.abs() if order is None else order).argsort(descending=True, stable=True)[:top]
    return figures.bars([f"x{int(j)}" for j in rank], [{"label": "change", "values": delta[rank].double()}],
                        title=title, ylabel="change (fraction of the feature's range)")
