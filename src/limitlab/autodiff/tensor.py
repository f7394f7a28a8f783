"""A reverse-mode automatic differentiation engine on NumPy: the `Tensor` and its operations.

Rumelhart, Hinton, Williams. Learning representations by back-propagating errors. Nature 1986.
In the spirit of Karpathy's micrograd (source 000: "Yes you should understand backprop"), but on arrays.

Every operation builds an output `Tensor` that remembers its operands (`_parents`) and a closure
(`_backward`) that applies the chain rule: given d_out = dJ/d(out) (`out.grad`), it adds dJ/d(operand) into
each operand's `.grad`. `backward()` runs those closures once each, in reverse topological order, so a
subexpression used twice receives the sum of both contributions. Broadcasting in the forward pass is
undone in the backward pass by summing the gradient back to the operand's shape (`_unbroadcast`).
Arrays are float64 unless given otherwise.

    v = Tensor(np.array([0.5, 2.0]))
    f = (v ** -1).sum()
    f.backward()
    v.grad            # -1 / v.data ** 2
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from limitlab.errors import ConfigError, DataError

ArrayLike = Any


class OpCount:
    """Arithmetic operations the engine performed (a multiply-add counts 2), forward and backward.

    Each op declares its own counts beside its chain rule: elementwise ops one per output element
    (a transcendental function counts 1), matmul (m, k) @ (k, n) 2mkn forward and 4mkn backward (two
    matmuls), sums one per summand. The reductions that undo broadcasting are not counted.
    """

    def __init__(self) -> None:
        self.forward = 0
        self.backward = 0


OPS = OpCount()


@contextlib.contextmanager
def count_ops() -> Iterator[OpCount]:
    """Count the engine's arithmetic in this block (the innermost block counts): `ops.forward`, `ops.backward`."""
    global OPS
    outer, OPS = OPS, OpCount()
    try:
        yield OPS
    finally:
        OPS = outer


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape` again."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array with a gradient. `requires_grad=False` for data that needs none (inputs, labels)."""

    __array_priority__ = 100  # so `ndarray * Tensor` calls Tensor.__rmul__

    def __init__(self, data: ArrayLike, *, requires_grad: bool = True, dtype: Any = np.float64,
                 _parents: Sequence[Tensor] = (), _op: str = "") -> None:
        self.data = np.asarray(data, dtype=dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._parents = tuple(_parents)
        self._backward: Callable[[np.ndarray], None] = lambda d_out: None  # called with dJ/d(self)
        self._op = _op
        self._backward_ops = 0

    # ---- plumbing -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, op={self._op!r})" if self._op else f"Tensor({self.data!r})"

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return float(self.data.item())

    def _out(self, data: np.ndarray, parents: Sequence[Tensor], op: str, ops: tuple[int, int] = (0, 0)) -> Tensor:
        """The result of an op; `ops` = (forward, backward) arithmetic operations, for `count_ops`."""
        out = Tensor(data, dtype=data.dtype, requires_grad=any(p.requires_grad for p in parents),
                     _parents=parents, _op=op)
        OPS.forward += ops[0]
        out._backward_ops = ops[1]
        return out

    def _add_grad(self, grad: np.ndarray) -> None:
        if self.requires_grad:
            grad = _unbroadcast(grad, self.shape)
            self.grad = grad.copy() if self.grad is None else self.grad + grad

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, grad: ArrayLike | None = None) -> None:
        """Fill `.grad` of every tensor this one depends on with d(self)/d(that tensor).

        Leaves accumulate (call `zero_grad` between steps, as in PyTorch); intermediate tensors are reset.
        """
        if grad is None:
            if self.data.size != 1:
                raise DataError(f"backward() on a tensor of shape {self.shape}; expected a scalar, "
                                "or pass grad= an array of the same shape")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=self.data.dtype)
        if grad.shape != self.shape:
            raise DataError(f"backward(grad=) has shape {grad.shape}; expected {self.shape}")
        order = _topological_order(self)
        for node in order:
            if node._parents:
                node.grad = None
        self._add_grad(grad)
        for node in reversed(order):
            if node._parents and node.grad is not None:
                OPS.backward += node._backward_ops
                node._backward(node.grad)

    # ---- arithmetic (broadcasting) --------------------------------------------------------------
    def __add__(self, other: ArrayLike) -> Tensor:
        other = as_tensor(other)
        out = self._out(self.data + other.data, (self, other), "+", _ops(self, other, 1, 1))

        def backward(d_out: np.ndarray) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
            self._add_grad(d_out)
            other._add_grad(d_out)
        out._backward = backward
        return out

    def __mul__(self, other: ArrayLike) -> Tensor:
        other = as_tensor(other)
        out = self._out(self.data * other.data, (self, other), "*", _ops(self, other, 1, 2))

        def backward(d_out: np.ndarray) -> None:  # d(ab)/da = b, d(ab)/db = a
            self._add_grad(d_out * other.data)
            other._add_grad(d_out * self.data)
        out._backward = backward
        return out

    def __pow__(self, exponent: float) -> Tensor:
        if not isinstance(exponent, (int, float)):
            raise ConfigError(f"Tensor ** {type(exponent).__name__}; expected a constant int or float exponent")
        out = self._out(self.data ** exponent, (self,), f"**{exponent}", (self.data.size, 3 * self.data.size))

        def backward(d_out: np.ndarray) -> None:  # d(a^p)/da = p a^(p-1)
            self._add_grad(d_out * exponent * self.data ** (exponent - 1))
        out._backward = backward
        return out

    def __matmul__(self, other: ArrayLike) -> Tensor:
        other = as_tensor(other)
        if self.ndim != 2 or other.ndim != 2:
            raise DataError(f"matmul of shapes {self.shape} and {other.shape}; expected two 2-D arrays")
        mkn = self.shape[0] * self.shape[1] * other.shape[1]
        out = self._out(self.data @ other.data, (self, other), "@", (2 * mkn, 4 * mkn))

        def backward(d_out: np.ndarray) -> None:  # C = AB: dJ/dA = dJ/dC B^T, dJ/dB = A^T dJ/dC
            self._add_grad(d_out @ other.data.T)
            other._add_grad(self.data.T @ d_out)
        out._backward = backward
        return out

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: ArrayLike) -> Tensor:
        return self + (-as_tensor(other))

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return self * as_tensor(other) ** -1

    def __radd__(self, other: ArrayLike) -> Tensor:
        return self + other

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return self * other

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return as_tensor(other) - self

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return as_tensor(other) * self ** -1

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return as_tensor(other) @ self

    # ---- elementwise functions ------------------------------------------------------------------
    def _unary(self, value: np.ndarray, local_grad: np.ndarray, op: str) -> Tensor:
        """out = g(self) elementwise; the chain rule is dJ/dself = dJ/dout * g'(self) = d_out * local_grad."""
        out = self._out(value, (self,), op, (value.size, value.size))

        def backward(d_out: np.ndarray) -> None:
            self._add_grad(d_out * local_grad)
        out._backward = backward
        return out

    def exp(self) -> Tensor:
        value = np.exp(self.data)
        return self._unary(value, value, "exp")  # d e^a / da = e^a

    def log(self) -> Tensor:
        return self._unary(np.log(self.data), 1.0 / self.data, "log")  # d log a / da = 1/a

    def tanh(self) -> Tensor:
        value = np.tanh(self.data)
        return self._unary(value, 1.0 - value ** 2, "tanh")  # d tanh a / da = 1 - tanh^2 a

    def sigmoid(self) -> Tensor:
        value = 0.5 * (1.0 + np.tanh(0.5 * self.data))  # = 1 / (1 + e^-a), without overflow
        return self._unary(value, value * (1.0 - value), "sigmoid")  # s' = s (1 - s)

    def relu(self) -> Tensor:
        positive = self.data > 0
        return self._unary(np.where(positive, self.data, 0.0), positive.astype(self.data.dtype), "relu")

    # ---- reductions and shapes ------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        out = self._out(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)), (self,), "sum",
                        (self.data.size, self.data.size))

        def backward(d_out: np.ndarray) -> None:  # every summand gets dJ/dout: re-insert the summed axes, broadcast
            if not keepdims and axis is not None:
                d_out = np.expand_dims(d_out, axis)
            self._add_grad(np.broadcast_to(d_out, self.shape))
        out._backward = backward
        return out

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        total = self.sum(axis=axis, keepdims=keepdims)  # d mean / da = 1 / (number of summands)
        return total * (total.data.size / self.data.size)

    def reshape(self, *shape: int) -> Tensor:
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        out = self._out(self.data.reshape(shape), (self,), "reshape")

        def backward(d_out: np.ndarray) -> None:  # reshaping moves no numbers: reshape the gradient back
            self._add_grad(d_out.reshape(self.shape))
        out._backward = backward
        return out

    @property
    def T(self) -> Tensor:
        out = self._out(self.data.T, (self,), "T")
        out._backward = lambda d_out: self._add_grad(d_out.T)
        return out

    def __getitem__(self, index: Any) -> Tensor:
        out = self._out(self.data[index], (self,), "[]", (0, np.size(self.data[index])))

        def backward(d_out: np.ndarray) -> None:  # scatter-add: an entry picked twice gets both gradients
            grad = np.zeros_like(self.data)
            np.add.at(grad, index, d_out)
            self._add_grad(grad)
        out._backward = backward
        return out


def _ops(a: Tensor, b: Tensor, forward: int, backward: int) -> tuple[int, int]:
    """Counts for a broadcasting binary op: `forward` and `backward` operations per output element."""
    size = np.broadcast_shapes(a.shape, b.shape)
    n = int(np.prod(size))
    return forward * n, backward * n


def as_tensor(value: ArrayLike) -> Tensor:
    """A Tensor as is; anything else becomes a constant (no gradient)."""
    return value if isinstance(value, Tensor) else Tensor(value, requires_grad=False)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor `root` depends on, each after its parents (iterative DFS: deep graphs are fine)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node._parents if id(p) not in seen)
    return order


def softmax_cross_entropy(logits: Tensor, labels: ArrayLike) -> Tensor:
    """Mean cross-entropy of integer `labels` under softmax(`logits`), fused for stability.

    J = mean_i [log sum_k exp(z_ik) - z_i,y_i];  dJ/dz_ik = (softmax(z_i)_k - [k == y_i]) / N.
    """
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise DataError(f"softmax_cross_entropy of logits {logits.shape} and labels {labels.shape} "
                        f"({labels.dtype}); expected N x C logits and N integer labels")
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    out = logits._out(np.asarray(-log_probs[rows, labels].mean()), (logits,), "cross-entropy",
                      (5 * logits.data.size, 3 * logits.data.size))  # max, subtract, exp, sum, log; exp, -1, scale

    def backward(d_out: np.ndarray) -> None:
        grad = np.exp(log_probs)
        grad[rows, labels] -= 1.0
        logits._add_grad(d_out * grad / len(labels))
    out._backward = backward
    return out
