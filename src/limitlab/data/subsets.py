"""Training subsets of the digits for learning curves: the train + validation pool, class-balanced nested
orders of it, and the HOG features of its rows (computed once per set of rows).

A learning curve trains on the first n examples of one random order for every n, so the subsets are
nested (n grows by adding examples) and, with `balanced_order`, every prefix has as even a class mix as
its size allows: small-n points then measure the amount of data, not an unlucky class mix.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from limitlab.data.arrays import ArrayDataset
from limitlab.data.digits import digits
from limitlab.data.features import hog_features


def balanced_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the indices whose every prefix is as class-balanced as possible."""
    perm = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):  # a loop over classes
        members = perm[y[perm] == c]
        rank[members] = np.arange(len(members))
    return perm[np.argsort(rank[perm], kind="stable")]


@functools.lru_cache(maxsize=1)
def digits_pool() -> tuple[ArrayDataset, ArrayDataset]:
    """(the 1,437 digits of the train and validation sets as one pool, the test set)."""
    d = digits()
    pool = ArrayDataset(torch.cat([d.train.x, d.val.x]), torch.cat([d.train.y, d.val.y]), "digits-train+val", 10)
    return pool, d.test


@functools.lru_cache(maxsize=4)
def pool_hog(index: tuple[int, ...]) -> np.ndarray:
    """HOG features of the pool's rows in `index`, then of the whole test set (one array, rows in that order)."""
    pool, test = digits_pool()
    return hog_features(np.concatenate([pool.x[list(index)].numpy(), test.x.numpy()]))
