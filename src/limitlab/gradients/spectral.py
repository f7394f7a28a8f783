"""Operator (spectral) norms of weight matrices: c_l = ||W_l||_op, the largest singular value.

||W v|| <= ||W||_op ||v||, so a layer can stretch a gradient by at most c_l (source 004).
"""
from __future__ import annotations

import torch
from torch import nn

from limitlab import _checks
from limitlab.gradients.norms import linear_layers


def spectral_norm(weight: torch.Tensor) -> float:
    """The largest singular value of a 2-D weight (by SVD, exact up to rounding)."""
    _checks.tensor(weight, "weight", dims=(2,), spec="a 2-D weight matrix (out, in)")
    return float(torch.linalg.matrix_norm(weight.detach(), ord=2))


def spectral_norms(model: nn.Module) -> dict[str, float]:
    """||W_l||_op of every linear layer's weight, by qualified name."""
    return {name: spectral_norm(m.weight) for name, m in linear_layers(model).items()}
