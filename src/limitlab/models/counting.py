"""Counting a fully connected network's parameters and its input-to-output paths through its modules.

Source 004: an MLP of L layers of width n has O(L n^2) parameters but O(n^L) paths from an input to an
output (a residual block adds its skip: (n + 1) choices per block). Counting through the modules
checks those closed forms on the very networks a study builds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from limitlab.models.resnet_mlp import Residual


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_paths(module: nn.Module, counts: torch.Tensor) -> torch.Tensor:
    """Input-to-unit path counts pushed through the modules: a dense layer sums over its inputs, a
    residual block adds the paths through its skip to those through its branch. `counts`: one entry per
    input unit (ones to count every path); the sum of the result is the number of input-to-output paths."""
    if isinstance(module, nn.Sequential):
        for child in module:
            counts = count_paths(child, counts)
        return counts
    if isinstance(module, Residual):
        return counts + count_paths(module.branch, counts)
    if isinstance(module, nn.Linear):
        return torch.full((module.out_features,), float(counts.sum()), dtype=torch.float64)
    return counts


def mlp_parameters(inputs: int, width: int, depth: int, classes: int) -> int:
    """P = d n + n + (L - 2)(n^2 + n) + n C + C: a `resnet-mlp` of L linear layers (plain or residual)."""
    return inputs * width + width + (depth - 2) * (width * width + width) + width * classes + classes


def mlp_paths(inputs: int, width: int, depth: int, classes: int, *, residual: bool) -> int:
    """d n^(L-1) C input-to-output paths through a plain MLP; d (n + 1)^(L-2) n C with residual blocks."""
    return inputs * (width + 1 if residual else width) ** (depth - 2) * width * classes


def closed_form_errors(make: Callable[[bool, int], nn.Module], depths: Iterable[int], *, inputs: int, width: int,
                       classes: int) -> tuple[float, float]:
    """The largest relative errors |counted - closed form| / closed form of the parameters and of the paths
    over `depths`, plain and residual: `make(residual, depth)` builds the network."""
    worst_p, worst_paths = 0.0, 0.0
    for depth in depths:
        for residual in (False, True):
            model = make(residual, depth)
            params = count_parameters(model)
            paths = float(count_paths(model, torch.ones(inputs, dtype=torch.float64)).sum())
            form_p = mlp_parameters(inputs, width, depth, classes)
            form_paths = mlp_paths(inputs, width, depth, classes, residual=residual)
            worst_p = max(worst_p, abs(params - form_p) / form_p)
            worst_paths = max(worst_paths, abs(paths - form_paths) / form_paths)
    return worst_p, worst_paths
