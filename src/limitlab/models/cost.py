"""What one forward pass of a model costs, per image: parameters, multiply-accumulates, neurons, activations.

MACs come from torch's own operator-level counter (`torch.utils.flop_counter.FlopCounterMode`: 2 FLOPs
per multiply-accumulate of every convolution and matrix product; element-wise work, pooling and
normalization are not counted). Neurons are the outputs of convolution and linear layers (the "units"
of Krizhevsky et al. 2012); activations are the outputs of every computing leaf layer (what training
stores). On the `meta` device nothing is allocated: VGG16's 138 million parameters cost no memory.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.utils.flop_counter import FlopCounterMode

from limitlab._modelstate import frozen
from limitlab.errors import IncompatibleModelError

SUPPORTED = (nn.Conv1d, nn.Conv2d, nn.Linear)  # the layers with weights whose outputs are "neurons"
SKIP = (nn.Flatten, nn.Dropout, nn.Identity)  # views or no-ops in eval: no new numbers


@dataclass(frozen=True)
class Cost:
    """Per-image counts of one forward pass."""

    params: int
    macs: int
    neurons: int
    activations: int


def _parametrization(name: str) -> bool:
    return name.endswith("parametrizations") or ".parametrizations." in name


def count_cost(model: nn.Module, in_shape: Sequence[int], *, device: str | torch.device = "meta") -> Cost:
    """Count parameters, and per image MACs, neurons and activations, with one forward pass of one image.

    A layer with its own parameters other than Conv1d/Conv2d/Linear raises IncompatibleModelError: its
    outputs would not be counted as neurons (and its own work, e.g. a normalization's, not as MACs).
    """
    for name, mod in model.named_modules():
        own = [n for n, _ in mod.named_parameters(recurse=False)]
        if own and not isinstance(mod, SUPPORTED) and not _parametrization(name):
            raise IncompatibleModelError(f"layer {name!r} ({type(mod).__name__}) has parameters {own}; "
                                         "count_cost counts Conv1d, Conv2d and Linear only: use those layers")
    totals = {"neurons": 0, "activations": 0}

    def hook(mod: nn.Module, inputs, out: torch.Tensor) -> None:
        per_image = out.numel() // out.shape[0]
        totals["neurons"] += per_image if isinstance(mod, SUPPORTED) else 0
        totals["activations"] += 0 if isinstance(mod, SKIP) else per_image

    leaves = [m for name, m in model.named_modules() if not _parametrization(name)  # weight reparametrizations
              and (isinstance(m, SUPPORTED) or not any(True for _ in m.children()))]  # are not layer outputs
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        model.to(device)
        x = torch.zeros(1, *in_shape, device=device)
        with frozen(model), torch.no_grad(), parametrize.cached():
            for mod in model.modules():  # weight reparametrizations are computed once per pass, not per image:
                for name in getattr(mod, "parametrizations", {}):  # compute them before counting
                    getattr(mod, name)
            with FlopCounterMode(display=False) as counter:
                model(x)
    finally:
        for h in handles:
            h.remove()
    params = sum(p.numel() for p in model.parameters())
    return Cost(params=params, macs=counter.get_total_flops() // 2, **totals)
