"""The arms of Zhang et al.'s randomization tests as (training set, test set) pairs, by name.

Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking generalization.
ICLR 2017, arXiv:1611.03530, section 2. "labels-p": a fraction p of the training labels replaced by
uniform random classes (p = 1: random labels); "shuffled-pixels": one pixel permutation for every image,
train and test; "random-pixels": a new permutation per image; "gaussian": Gaussian inputs with the
training data's mean and variance. Test labels are always the true ones; test inputs are corrupted
the same way as the arm's training inputs.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from limitlab.data.arrays import ArrayDataset
from limitlab.data.corrupt import corrupt_labels, gaussian_inputs, pixel_permutation, random_pixels, shuffle_pixels
from limitlab.errors import ConfigError

PIXEL_ARMS = ("shuffled-pixels", "random-pixels", "gaussian")


def label_arm(p: float) -> str:
    """The arm name of label corruption p: "labels-0", "labels-0.2", ..., "labels-1"."""
    return f"labels-{p:g}"


def corrupted_arm(arm: str, train: ArrayDataset, test: ArrayDataset, rng: Callable[..., np.random.Generator],
                  *, num_classes: int = 10) -> tuple[ArrayDataset, ArrayDataset]:
    """(training set, test set) of one arm; `rng(*names)` gives the named generator of each draw."""
    xtr, ytr, xte = train.x, train.y, test.x
    if arm.startswith("labels-"):
        ytr, _ = corrupt_labels(ytr, fraction=float(arm[7:]), num_classes=num_classes, rng=rng("labels", arm))
    elif arm == "shuffled-pixels":
        perm = pixel_permutation(xtr, rng("shuffle"))
        xtr, xte = shuffle_pixels(xtr, perm), shuffle_pixels(xte, perm)
    elif arm == "random-pixels":
        xtr, xte = random_pixels(xtr, rng("random-pixels", "train")), random_pixels(xte, rng("random-pixels", "test"))
    elif arm == "gaussian":  # test inputs from the same distribution as the training inputs
        mean, std = float(xtr.mean()), float(xtr.std())
        xtr = gaussian_inputs(xtr, rng("gaussian", "train"))
        xte = gaussian_inputs(xte, rng("gaussian", "test"), mean=mean, std=std)
    else:
        raise ConfigError(f"unknown arm {arm!r}; expected labels-<p> or one of {', '.join(PIXEL_ARMS)}")
    bounds = (float(min(xtr.min(), xte.min())), float(max(xtr.max(), xte.max())))
    return (ArrayDataset(xtr, ytr, f"memorization-{arm}-train", num_classes, bounds),
            ArrayDataset(xte, test.y, f"memorization-{arm}-test", num_classes, bounds))
