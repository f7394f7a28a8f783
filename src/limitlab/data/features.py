"""Engineered image features: histograms of oriented gradients (HOG) via scikit-image.

Dalal, Triggs. Histograms of oriented gradients for human detection. CVPR 2005. The classic
descriptor: 9 unsigned orientation bins per cell, cells grouped in 2 x 2 blocks with L2-Hys
normalization (scikit-image's `skimage.feature.hog` defaults). The 8x8 digits are first upsampled
(bilinear) so that 4 x 4-pixel cells still leave a 4 x 4 grid of cells.
"""
from __future__ import annotations

import numpy as np
from skimage.feature import hog
from skimage.transform import resize

from limitlab.errors import DataError


def hog_features(images: np.ndarray, *, orientations: int = 9, cell: int = 4, block: int = 2,
                 upsample: int = 2) -> np.ndarray:
    """HOG descriptors of a stack of grayscale images (N x H x W, or N x 1 x H x W): N x features.

    `skimage.feature.hog` takes one image at a time, so this loops over images; callers compute the
    features once per dataset and reuse them (a few milliseconds per image).
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or len(x) == 0:
        raise DataError(f"images have shape {x.shape}; expected N x H x W or N x 1 x H x W grayscale images")
    if upsample > 1:
        x = resize(x, (len(x), x.shape[1] * upsample, x.shape[2] * upsample), order=1, anti_aliasing=False)
    if min(x.shape[1:]) < cell * block:
        raise DataError(f"images of {x.shape[1]}x{x.shape[2]} pixels are smaller than one block "
                        f"({block} cells of {cell} pixels); lower cell/block or raise upsample")
    return np.stack([hog(im, orientations=orientations, pixels_per_cell=(cell, cell),
                         cells_per_block=(block, block), block_norm="L2-Hys") for im in x])
