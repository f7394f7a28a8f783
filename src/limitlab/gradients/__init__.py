"""Gradient flow probes: per-layer gradient norms, spectral norms, the depth bound, saved-tensor memory.

Source 004: ||grad_x f|| <= ||grad_y f|| * prod_l ||W_l||_op * c_sigma; backprop stores O(L) activations.
"""
from limitlab.gradients.bound import GradientBound, gradient_bound, layer_factors
from limitlab.gradients.memory import SavedTensors, saved_tensor_bytes
from limitlab.gradients.norms import layer_gradient_norms, linear_layers
from limitlab.gradients.spectral import spectral_norm, spectral_norms

__all__ = ["GradientBound", "SavedTensors", "gradient_bound", "layer_factors", "layer_gradient_norms",
           "linear_layers", "saved_tensor_bytes", "spectral_norm", "spectral_norms"]
