"""The engine's gradient against two independent routes: torch.autograd and central finite differences."""
import numpy as np

from limitlab.autodiff import MLP
from limitlab.autodiff.gradcheck import backprop_gradient, finite_differences, relative_error, torch_gradient


def test_three_gradient_routes_agree():
    rng = np.random.default_rng(0)
    net = MLP((5, 6, 3), act="tanh", rng=rng)
    x, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    ours = backprop_gradient(net, x, y)
    assert relative_error(ours, torch_gradient(net, x, y)) < 1e-12
    assert relative_error(ours, finite_differences(net, x, y, 1e-6)) < 1e-7
    before = [p.data.copy() for p in net.parameters()]
    finite_differences(net, x, y, 1e-3)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, net.parameters()))  # parameters restored
