"""Gradient flow through a deep network at one point: per-layer weight-gradient norms, the ratio of the
gradient reaching the input to the gradient at the output, and the depth bound checked per example.

Glorot, Bengio. Understanding the difficulty of training deep feedforward networks. AISTATS 2010;
source 004: ||grad_x J|| <= ||grad_y J|| * prod_l c_l (y: the logits). The ratio ||grad_x J|| / ||grad_y J||
is the factor by which backpropagation shrinks (< 1) or grows (> 1) the gradient on its way to the input.
Everything is measured in the dtype of `x` (use float64, with the model in float64, for a tight check).

A Euclidean norm sums squares: below sqrt(smallest normal float) (1.5e-154 in float64) the squares underflow
and the norm is wrong, down to 0 for a gradient that is not 0 (exploding logits saturate the softmax, and
||grad_y J|| underflows while grad_x J, scaled up by the huge weights, does not). Such examples are
"unchecked": left out of the ratio and of the bound check, and counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab.gradients.bound import gradient_bound
from limitlab.gradients.norms import layer_gradient_norms


@dataclass
class GradientFlow:
    norms: list[float]  # ||dJ/dW_l||_F per linear layer, input layer first
    weight_ratio: float  # norms[0] / norms[-1] (inf when the last is 0)
    ratio: float  # mean over checked examples of ||grad_x J|| / ||grad_y J|| (NaN if none is checked)
    bound_ratio: float  # largest measured / bound over checked examples (<= 1 when the bound holds; NaN if none)
    measured: float  # mean ||grad_x J||
    bound: float  # mean bound ||grad_y J|| * prod_l c_l
    unchecked: int = 0  # examples whose gradient norms underflow (see the module docstring)


def gradient_flow(model: nn.Module, x: Tensor, y: Tensor) -> GradientFlow:
    """The flow of the cross-entropy gradient through `model` at (x, y); the model is left as it was."""
    norms = list(layer_gradient_norms(model, x, y).values())
    bound = gradient_bound(model, x, y)
    safe = math.sqrt(torch.finfo(x.dtype).tiny)
    checked = (bound.output >= safe) & (bound.measured >= safe)
    nan = float("nan")
    flow = bound.measured[checked] / bound.output[checked]
    return GradientFlow(norms, norms[0] / norms[-1] if norms[-1] > 0 else math.inf,
                        float(flow.mean()) if checked.any() else nan,
                        float(bound.ratio[checked].max()) if checked.any() else nan,
                        float(bound.measured.mean()), float(bound.bound.mean()), int((~checked).sum()))
