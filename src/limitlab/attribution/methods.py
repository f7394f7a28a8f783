"""The attribution methods by name, each as (model, x) -> one (N, H, W) map per input of a fixed class.

Selvaraju et al. Grad-CAM. ICCV 2017, arXiv:1610.02391 (at `layer`). Simonyan, Vedaldi, Zisserman. 2014,
arXiv:1312.6034 (|input gradient|). Shrikumar et al. 2016, arXiv:1605.01713 (gradient x input).
Sundararajan, Taly, Yan. ICML 2017, arXiv:1703.01365 (integrated gradients from the blank image).
Channels are summed; the signed maps keep their sign (positive = evidence for the class). The class is
fixed (`target`), so a method explains the same class whatever the model's weights become: what the
cascading randomization test of Adebayo et al. (NeurIPS 2018, arXiv:1810.03292) needs.
"""
from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from limitlab.attribution.grad_cam import grad_cam
from limitlab.attribution.gradients import gradient_x_input, input_gradient
from limitlab.attribution.integrated_gradients import integrated_gradients

METHODS = ("grad-cam", "gradient", "grad-x-input", "integrated-gradients")
LABELS = {"grad-cam": "Grad-CAM", "gradient": "|gradient|", "grad-x-input": "grad × input",
          "integrated-gradients": "integ. grad."}  # short names for figures
Explainer = Callable[[nn.Module, Tensor], Tensor]


def explainers(target: Tensor, *, layer: str, ig_steps: int) -> dict[str, Explainer]:
    """Each method of `METHODS` explaining the classes `target` (one per input)."""
    return {
        "grad-cam": lambda m, x: grad_cam(m, x, layer=layer, target=target),
        "gradient": lambda m, x: input_gradient(m, x, target=target).abs().sum(1),
        "grad-x-input": lambda m, x: gradient_x_input(m, x, target=target).sum(1),
        "integrated-gradients": lambda m, x: integrated_gradients(m, x, target=target, steps=ig_steps).sum(1),
    }


def unit_max(maps: Tensor) -> Tensor:
    """Each (H, W) map of a batch divided by its own maximum: for drawing maps of different scales alike."""
    return maps / maps.flatten(1).max(1).values.clamp_min(1e-12).view(-1, 1, 1)
