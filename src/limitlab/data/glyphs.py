"""Glyphs: letters and symbols drawn at 8x8 with Pillow's built-in font, in the digits' format.

An out-of-distribution set that looks like digits (8x8, ink in [0, 1], centred) but holds no digit.
Characters that read as digits (O, I, l, S, Z, B, ...) are left out. Each character is drawn at a few
sizes and offsets, deterministically.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from limitlab.data.arrays import ArrayDataset

CHARACTERS = "ACEFHKLMNPRTUVWXYacdefhkmnprtuvwxy#%&*+=?@<>$"


def _render(char: str, size: int, dx: int, dy: int) -> np.ndarray:
    font = ImageFont.load_default(size=size)
    canvas = Image.new("L", (48, 48), 0)
    ImageDraw.Draw(canvas).text((12, 6), char, fill=255, font=font)
    box = canvas.getbbox()
    glyph = canvas.crop(box)
    # Fit the ink into a 6x6 box inside the 8x8 frame (as the digits do), keep the aspect ratio.
    w, h = glyph.size
    scale = 6.0 / max(w, h)
    glyph = glyph.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    frame = Image.new("L", (8, 8), 0)
    frame.paste(glyph, ((8 - glyph.width) // 2 + dx, (8 - glyph.height) // 2 + dy))
    out = np.asarray(frame, dtype=np.float32) / 255.0
    return out / max(out.max(), 1e-6)


@functools.lru_cache(maxsize=1)
def glyphs() -> ArrayDataset:
    """Every character of `CHARACTERS` at two sizes and three offsets: N x 1 x 8 x 8 in [0, 1]."""
    images, labels = [], []
    for label, char in enumerate(CHARACTERS):
        for size in (20, 28):
            for dx, dy in ((0, 0), (-1, 0), (1, 0)):
                images.append(_render(char, size, dx, dy))
                labels.append(label)
    x = torch.from_numpy(np.stack(images)[:, None])
    y = torch.tensor(labels, dtype=torch.int64)
    return ArrayDataset(x, y, "glyphs", len(CHARACTERS), (0.0, 1.0), tuple(CHARACTERS))
