"""limitlab's own reverse-mode automatic differentiation engine, on NumPy (float64 by default).

    from limitlab.autodiff import Tensor
    v = Tensor(np.array([0.5, 2.0])); f = (v ** -1).sum(); f.backward(); v.grad   # -1 / v**2

`tensor` holds the Tensor and its operations (the chain rule beside each), `nn` a Linear layer and an
MLP, `optim` SGD. It exists to show how backpropagation works and what it costs (the `backprop` study).
"""
from limitlab.autodiff.nn import MLP, Linear, Module
from limitlab.autodiff.optim import SGD
from limitlab.autodiff.tensor import OpCount, Tensor, as_tensor, count_ops, softmax_cross_entropy

__all__ = ["MLP", "SGD", "Linear", "Module", "OpCount", "Tensor", "as_tensor", "count_ops", "softmax_cross_entropy"]
