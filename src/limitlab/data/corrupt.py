"""Label and pixel corruptions of Zhang et al. (2017), for the `memorization` study.

Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking
generalization. ICLR 2017, arXiv:1611.03530. Section 2: partially corrupted labels, random labels,
shuffled pixels (one permutation for every image), random pixels (a new permutation per image),
Gaussian inputs (matching the data's mean and variance).

Each function takes a NumPy generator so the corruption is reproducible from the run seed.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from limitlab.errors import ConfigError, DataError


def corrupt_labels(y: Tensor, *, fraction: float, num_classes: int,
                   rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """Replace exactly `round(fraction * N)` labels, chosen at random, by uniform random classes.

    Returns `(new_labels, replaced)` with `replaced` the boolean mask of the chosen examples. As in
    Zhang et al., a replacement is drawn from all classes, so at `fraction=1` the labels are
    independent of the inputs (and about 1/num_classes of the replaced labels equal the old ones).
    """
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"label corruption fraction={fraction}; expected 0 <= fraction <= 1")
    if num_classes < 2:
        raise ConfigError(f"num_classes={num_classes}; expected >= 2 to corrupt labels")
    if y.ndim != 1:
        raise DataError(f"labels have shape {tuple(y.shape)}; expected a 1-D tensor of class indices")
    n = len(y)
    chosen = rng.choice(n, size=round(fraction * n), replace=False)
    replaced = torch.zeros(n, dtype=torch.bool)
    replaced[torch.from_numpy(chosen)] = True
    new = y.clone()
    new[replaced] = torch.from_numpy(rng.integers(0, num_classes, size=len(chosen))).to(y.dtype)
    return new, replaced


def pixel_permutation(x: Tensor, rng: np.random.Generator) -> Tensor:
    """One random permutation of the pixel positions of `x` (N x ...): for `shuffle_pixels`."""
    return torch.from_numpy(rng.permutation(x[0].numel()))


def shuffle_pixels(x: Tensor, permutation: Tensor) -> Tensor:
    """Apply the same pixel permutation to every image (train and test alike: a fixed re-wiring)."""
    flat = x.flatten(1)
    if permutation.shape != (flat.shape[1],):
        raise DataError(f"permutation has shape {tuple(permutation.shape)}; expected ({flat.shape[1]},), "
                        "one index per pixel; make it with pixel_permutation(x, rng)")
    return flat[:, permutation].reshape(x.shape)


def random_pixels(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Permute each image's pixels with its own random permutation (vectorized: argsort of noise)."""
    flat = x.flatten(1)
    perms = torch.from_numpy(np.argsort(rng.random(flat.shape), axis=1))
    return flat.gather(1, perms).reshape(x.shape)


def gaussian_inputs(x: Tensor, rng: np.random.Generator, *, mean: float | None = None,
                    std: float | None = None) -> Tensor:
    """Gaussian noise of `x`'s shape with the data's mean and standard deviation (or those given).

    Pass the training set's `mean`/`std` when making test inputs, so both come from one distribution.
    """
    mean = float(x.mean()) if mean is None else mean
    std = float(x.std()) if std is None else std
    return torch.from_numpy(rng.normal(mean, std, size=tuple(x.shape)).astype(np.float32))
