"""Grad-CAM: class activation maps from the gradients flowing into a convolutional layer.

Selvaraju, Cogswell, Das, Vedantam, Parikh, Batra. Grad-CAM: visual explanations from deep networks
via gradient-based localization. ICCV 2017, arXiv:1610.02391. With A^k (h x w) the k-th feature map of
`layer` and y^c the class's pre-softmax score, the channel weights are the spatially averaged gradients
alpha_k = mean_ij d y^c / d A^k_ij, and the map is L = ReLU(sum_k alpha_k A^k), upsampled bilinearly
to the input's size so it can be laid back over the image (the lecture notes' "activation heatmap").

Differences from Captum's `LayerGradCam` (checked in tests/attribution/test_grad_cam.py): Captum keeps
the map at the layer's resolution (`LayerAttribution.interpolate` upsamples with "nearest" by default)
and applies the ReLU only with `relu_attributions=True`; with those two settings the maps agree.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.attribution._common import Target, check_x, class_score, resolve_target
from limitlab.errors import IncompatibleModelError


@contextlib.contextmanager
def recording(layer: nn.Module) -> Iterator[list[object]]:
    """Record `layer`'s outputs, tensors or not, during the block; the hook is removed on exit, even by an exception."""
    outputs: list[object] = []

    def hook(module: nn.Module, inputs: tuple, output: object) -> Tensor | None:
        outputs.append(output)
        # Hand the rest of the network a copy, so an in-place op after the layer (ReLU(inplace=True))
        # cannot overwrite the activations we differentiate with respect to.
        return output.clone() if isinstance(output, Tensor) else None

    handle = layer.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove()


def find_layer(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """`layer` itself if it is a submodule of `model`, or the submodule with that dotted name."""
    names = [name for name, _ in model.named_modules() if name]
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except AttributeError:
            raise IncompatibleModelError(f"the model has no layer {layer!r}; valid names: "
                                         f"{', '.join(names[:20])}") from None
    if not any(m is layer for m in model.modules()):
        raise IncompatibleModelError(f"layer {type(layer).__name__} is not a submodule of the model; pass one "
                                     f"of its layers or its name ({', '.join(names[:20])})")
    return layer


def grad_cam(
    model: nn.Module, x: Tensor, *, layer: nn.Module | str, target: Target = None, upsample: bool = True,
) -> Tensor:
    """Grad-CAM maps of shape (N, H, W): at the input's size if `upsample`, else at the layer's (h, w)."""
    check_x(x, model)
    upsample = _checks.flag("upsample", upsample)
    module = find_layer(model, layer)
    with frozen(model), torch.enable_grad():  # also inside a caller's torch.no_grad() block
        target = resolve_target(model, x, target)
        # The input requires grad only so that the graph reaches the layer's activations.
        x = x.detach().requires_grad_(True)
        with recording(module) as outputs:
            score = class_score(model, x, target)
        if len(outputs) != 1:
            raise IncompatibleModelError(f"layer {type(module).__name__} ran {len(outputs)} times in one forward "
                                         "pass; expected once: pass a layer the forward pass uses exactly once")
        acts = outputs[0]
        if not isinstance(acts, Tensor) or acts.dim() != 4:
            shape = tuple(acts.shape) if isinstance(acts, Tensor) else type(acts).__name__
            raise IncompatibleModelError(f"layer {type(module).__name__} outputs {shape}; "
                                         "Grad-CAM needs feature maps (N, C, h, w): pass a convolutional layer")
        (grads,) = torch.autograd.grad(score.sum(), acts)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * acts).sum(dim=1, keepdim=True)).detach()
    if upsample and x.dim() == 4 and cam.shape[-2:] != x.shape[-2:]:
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return cam[:, 0]
