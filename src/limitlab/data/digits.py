"""scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes), scaled to [0, 1].

Shape N x 1 x 8 x 8. The train / validation / test split is fixed (seed 0, stratified) whatever the
run seed, so every study and every seed is measured on the same test set.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from limitlab.data.arrays import ArrayDataset, Split

NUM_VAL = 360
NUM_TEST = 360


@functools.lru_cache(maxsize=1)
def digits() -> Split:
    """The digits split: 1,077 train, 360 validation, 360 test images (stratified, fixed)."""
    # scikit-learn's datasets module takes seconds to import: only when the digits are asked for.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=NUM_TEST, stratify=y, random_state=0)
    train, val = train_test_split(rest, test_size=NUM_VAL, stratify=y[rest], random_state=0)
    names = tuple(str(c) for c in range(10))

    def part(index: np.ndarray, name: str) -> ArrayDataset:
        index = np.sort(index)
        return ArrayDataset(torch.from_numpy(x[index]), torch.from_numpy(y[index]), f"digits-{name}",
                            10, (0.0, 1.0), names)

    return Split(part(train, "train"), part(val, "val"), part(test, "test"))


@functools.lru_cache(maxsize=1)
def digits_heldout() -> ArrayDataset:
    """The 720 digits of the validation and test sets as one held-out set: twice the digits halve the variance
    of an accuracy measured on them. A model trained without early stopping never sees them; a caller that scores
    a model which stopped early on the validation digits says so."""
    d = digits()
    return ArrayDataset(torch.cat([d.val.x, d.test.x]), torch.cat([d.val.y, d.test.y]), "digits-val+test", 10,
                        d.test.bounds, d.test.class_names)
