"""Three routes to an engine MLP's loss gradient: backprop, central finite differences, torch.autograd.

Griewank, Walther. Evaluating derivatives, 2nd ed., SIAM 2008: reverse mode (backpropagation) costs a
small constant times one evaluation of the function; central differences (J(p + h) - J(p - h)) / 2h
cost two evaluations per parameter. torch.autograd on the same weights (float64) is an independent
implementation, so agreement of the three checks the engine.
"""
from __future__ import annotations

import numpy as np

from limitlab.autodiff.nn import MLP
from limitlab.autodiff.tensor import Tensor, softmax_cross_entropy


def loss_of(net: MLP, x: np.ndarray, y: np.ndarray) -> Tensor:
    """The mean softmax cross-entropy of `net` on (x, y)."""
    return softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y)


def _grad_of(t: Tensor) -> np.ndarray:
    """`t.grad` after a backward pass: zeros if the output does not depend on `t` (the engine leaves None)."""
    return np.zeros_like(t.data) if t.grad is None else t.grad


def backprop_gradient(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The loss gradient per parameter, by the engine's backward pass."""
    net.zero_grad()
    loss_of(net, x, y).backward()
    return [_grad_of(p).copy() for p in net.parameters()]


def finite_differences(net: MLP, x: np.ndarray, y: np.ndarray, h: float) -> list[np.ndarray]:
    """Central differences, one pair of forward passes per parameter (the cost backprop avoids).
    Every parameter is restored exactly after its pair."""
    grads = []
    for p in net.parameters():
        g, flat = np.zeros(p.data.size), p.data.reshape(-1)  # a view: editing flat edits the parameter
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            up = loss_of(net, x, y).item()
            flat[i] = keep - h
            down = loss_of(net, x, y).item()
            flat[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g.reshape(p.shape))
    return grads


def torch_gradient(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The same network's gradient by torch.autograd in float64: an independent implementation."""
    import torch

    params = [torch.tensor(p.data, requires_grad=True) for p in net.parameters()]
    h = torch.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = getattr(torch, net.act)(h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    return [g.numpy() for g in torch.autograd.grad(loss, params)]


def relative_error(ours: list[np.ndarray], ref: list[np.ndarray]) -> float:
    """max |ours - ref| / max |ref| over all parameters."""
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ours, ref))
    return diff / max(float(np.abs(b).max()) for b in ref)


def reciprocal_gradient(x: np.ndarray) -> np.ndarray:
    """The engine's derivative of f(x) = 1/x at every point of `x` (symbolically: -1/x^2)."""
    v = Tensor(x)
    (v ** -1).sum().backward()
    return _grad_of(v)
