"""The engine op by op against torch.autograd in float64: values and gradients, broadcasting, reuse."""
import numpy as np
import pytest
import torch

from limitlab.autodiff import Tensor, softmax_cross_entropy
from limitlab.errors import ConfigError, DataError

RNG = np.random.default_rng(0)


def both(*arrays):
    """The same arrays as engine tensors and as float64 torch leaves."""
    ours = [Tensor(a.copy()) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ours, theirs


def check(fn_ours, fn_torch, *arrays, weights=None):
    """Compare value and gradients of sum(w * f(inputs)) with a random w (so every output entry counts)."""
    ours, theirs = both(*arrays)
    out, ref = fn_ours(*ours), fn_torch(*theirs)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = RNG.normal(size=out.shape) if weights is None else weights
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        assert a.grad.shape == a.shape
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-11, atol=1e-13)


A, B = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
ROW, COL, SCALAR = RNG.normal(size=(4,)), RNG.normal(size=(3, 1)), RNG.normal(size=())
POS = RNG.uniform(0.5, 2.0, size=(3, 4))


@pytest.mark.parametrize("x, y", [(A, B), (A, ROW), (A, COL), (ROW, COL), (A, SCALAR)])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_broadcasting_arithmetic(op, x, y):
    f = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "div": lambda a, b: a / (b * b + 1.0)}[op]
    check(f, f, x, y)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu"])
def test_elementwise(name):
    x = POS if name == "log" else A
    check(lambda a: getattr(a, name)(), lambda a: getattr(torch, name)(a), x)


@pytest.mark.parametrize("p", [2, 3, -1, 0.5, -2.5])
def test_pow(p):
    check(lambda a: a ** p, lambda a: a ** p, POS)


def test_matmul_and_transpose():
    x, w = RNG.normal(size=(5, 3)), RNG.normal(size=(3, 2))
    check(lambda a, b: a @ b, lambda a, b: a @ b, x, w)
    check(lambda a: a.T @ a, lambda a: a.T @ a, x)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False), (1, False)])
def test_sum_mean(axis, keepdims):
    check(lambda a: a.sum(axis=axis, keepdims=keepdims), lambda a: a.sum(dim=axis, keepdim=keepdims)
          if axis is not None else a.sum(), A)
    check(lambda a: a.mean(axis=axis, keepdims=keepdims), lambda a: a.mean(dim=axis, keepdim=keepdims)
          if axis is not None else a.mean(), A)


def test_reshape_and_indexing_with_repeats():
    check(lambda a: a.reshape(2, 6) * 2.0, lambda a: a.reshape(2, 6) * 2.0, A)
    idx = np.array([0, 2, 0, 1])  # row 0 picked twice: its gradient is the sum of both picks
    check(lambda a: a[idx], lambda a: a[torch.tensor(idx)], A)
    check(lambda a: a[1:, ::2], lambda a: a[1:, ::2], A)


def test_softmax_cross_entropy_against_torch():
    logits, labels = RNG.normal(size=(6, 5)) * 3, np.array([0, 4, 2, 2, 1, 3])
    ours, theirs = both(logits)
    out = softmax_cross_entropy(ours[0], labels)
    ref = torch.nn.functional.cross_entropy(theirs[0], torch.tensor(labels))
    assert out.item() == pytest.approx(ref.item(), rel=1e-13)
    out.backward(), ref.backward()
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=1e-11, atol=1e-14)


def test_shared_subexpression_gets_both_contributions():
    # f = u * u + u with u = tanh(x W): u feeds three places; torch agrees, and so does d/dx by hand
    x, w = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3))
    check(lambda a, b: (a @ b).tanh() * (a @ b).tanh() + (a @ b).tanh(),
          lambda a, b: torch.tanh(a @ b) ** 2 + torch.tanh(a @ b), x, w)
    v = Tensor(np.array([1.5]))
    u = v * v          # used twice below
    (u * u + u).backward()  # f = v^4 + v^2, f' = 4 v^3 + 2 v
    assert v.grad[0] == pytest.approx(4 * 1.5 ** 3 + 2 * 1.5, rel=1e-14)


def test_reciprocal_against_symbolic_derivative():
    x = np.array([-3.0, -0.25, 0.1, 0.5, 1.0, 7.0])
    v = Tensor(x)
    (v ** -1).sum().backward()
    np.testing.assert_allclose(v.grad, -1 / x ** 2, rtol=1e-15)
    v2 = Tensor(x)
    (1.0 / v2).sum().backward()   # the same through __rtruediv__
    np.testing.assert_allclose(v2.grad, -1 / x ** 2, rtol=1e-15)


def test_leaves_accumulate_and_intermediates_reset():
    v = Tensor(np.array([2.0]))
    f = v * 3.0
    f.backward()
    f.backward()
    assert v.grad[0] == 6.0  # two backward passes accumulate into the leaf, as in PyTorch
    v.zero_grad()
    (v * v).backward()
    assert v.grad[0] == 4.0


def test_no_gradient_for_constants_and_deep_chain():
    c = Tensor(np.ones(3), requires_grad=False)
    v = Tensor(np.full(3, 0.5))
    y = v
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0 + c * 0.0
    y.sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(v.grad, np.ones(3))


def test_errors():
    with pytest.raises(DataError, match="scalar"):
        Tensor(np.ones(3)).backward()
    with pytest.raises(ConfigError, match="exponent"):
        Tensor(np.ones(3)) ** Tensor(np.ones(3))
    with pytest.raises(DataError, match="labels"):
        softmax_cross_entropy(Tensor(np.ones((2, 3))), np.array([0.5, 1.0]))


def test_op_counts_of_a_linear_layer_by_hand():
    from limitlab.autodiff import count_ops
    x = Tensor(np.ones((4, 3)), requires_grad=False)
    w, b = Tensor(np.ones((3, 2))), Tensor(np.ones(2))
    with count_ops() as ops:
        loss = ((x @ w + b).tanh()).sum()
    # matmul 2*4*3*2 = 48, add 8, tanh 8, sum 8
    assert ops.forward == 48 + 8 + 8 + 8
    with count_ops() as ops:
        loss.backward()
    # sum 8, tanh 8, add 8, matmul 4*4*3*2 = 96
    assert ops.backward == 8 + 8 + 8 + 96
