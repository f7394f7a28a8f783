"""JPEG's lossy step on float images: blockwise DCT coefficients quantized with the standard table.

ITU-T T.81 (ISO/IEC 10918-1), 1992: Annex A (8 x 8 blocks, level shift by 128, the DCT-II, which is
the orthonormal one) and Annex K (the luminance quantization table); the Independent JPEG Group's
libjpeg scales that table by the quality q (jcparam.c: 5000 // q below 50, else 200 - 2q, then
(t * scale + 50) // 100 kept in [1, 255]), as Pillow's `quality=` does. Hendrycks & Dietterich's
CIFAR-10-C "jpeg_compression" is a Pillow round trip at q = 80, 65, 58, 50, 40.

What is left out, and why: the entropy coding (lossless), the colour transform and chroma subsampling
(each channel is quantized on its own with the luminance table, so any number of channels works and
a grey image is exactly libjpeg's grey path), and the rounding to 8 bits (the output stays float).
Images whose sides are not multiples of 8 are padded by repeating the last row and column, as libjpeg
does, and cropped back. Values are read on the 0..255 scale the table was made for: x in [0, 1].
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.fft import dctn, idctn
from torch import Tensor

from limitlab.errors import ConfigError, DataError

LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64).reshape(8, 8)


def quantization_table(quality: int) -> np.ndarray:
    """libjpeg's luminance table at `quality` (1..100; 50 is the table itself, 100 all ones)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ConfigError(f"JPEG quality={quality!r}; expected an integer from 1 to 100")
    scale = 5000 // int(quality) if quality < 50 else 200 - 2 * int(quality)
    return np.clip((LUMINANCE * scale + 50) // 100, 1, 255).astype(np.float64)


def jpeg_quantize(x: Tensor, *, quality: int) -> Tensor:
    """x (N x C x H x W, values in [0, 1]) after JPEG's quantization at `quality`, in x's dtype (not clamped)."""
    if x.dim() != 4 or not x.is_floating_point():
        raise DataError(f"images have shape {tuple(x.shape)} and dtype {x.dtype}; expected a float batch N x C x H x W")
    q = quantization_table(quality)
    n, c, h, w = x.shape
    a = x.detach().cpu().numpy().astype(np.float64) * 255 - 128
    a = np.pad(a, ((0, 0), (0, 0), (0, -h % 8), (0, -w % 8)), mode="edge")
    rows, cols = a.shape[2] // 8, a.shape[3] // 8
    blocks = a.reshape(n, c, rows, 8, cols, 8).transpose(0, 1, 2, 4, 3, 5)
    coef = dctn(blocks, type=2, norm="ortho", axes=(-2, -1))
    back = idctn(np.round(coef / q) * q, type=2, norm="ortho", axes=(-2, -1))
    out = back.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, rows * 8, cols * 8)[:, :, :h, :w]
    return torch.from_numpy((out + 128) / 255).to(dtype=x.dtype, device=x.device)
