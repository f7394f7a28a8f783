"""Per-image counts against hand-worked layers, published parameter counts and an independent hook count."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from limitlab.errors import IncompatibleModelError
from limitlab.models import build
from limitlab.models.cost import count_cost
from limitlab.models.imagenet import ARCHITECTURES, PUBLISHED_PARAMS


def meta(name):
    make, shape = ARCHITECTURES[name]
    with torch.device("meta"):
        return make(), shape


def hook_macs(model: nn.Module, shape) -> int:
    """A second route to the MACs: forward hooks on every convolution and linear layer (output x fan-in)."""
    total = [0]

    def hook(mod, inputs, out):
        fan_in = mod.in_features if isinstance(mod, nn.Linear) else mod.in_channels // mod.groups * math.prod(
            mod.kernel_size)
        total[0] += out.numel() // out.shape[0] * fan_in

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape, device=next(model.parameters()).device))
    for h in handles:
        h.remove()
    return total[0]


def test_small_layers_by_hand():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * 5 * 5, 5))
    c = count_cost(net, (3, 10, 10), device="cpu")
    assert c.params == (8 * 3 * 9 + 8) + (200 * 5 + 5)
    assert c.macs == 8 * 10 * 10 * (3 * 9) + 200 * 5  # output elements x fan-in
    assert c.neurons == 800 + 5
    assert c.activations == 800 + 800 + 200 + 5  # conv, relu, pool, linear (flatten is a view)


def test_grouped_convolution_by_hand():
    c = count_cost(nn.Conv2d(4, 6, 3, groups=2), (4, 5, 5), device="cpu")
    assert c.params == 6 * 2 * 9 + 6
    assert c.macs == 6 * 3 * 3 * (2 * 9)


def test_zoo_cnn_by_hand():
    c = count_cost(build("cnn"), (1, 8, 8), device="cpu")
    assert c.params == 160 + 4640 + (512 * 64 + 64) + 650
    assert c.macs == 16 * 64 * 9 + 32 * 64 * 16 * 9 + 512 * 64 + 64 * 10


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMS))
def test_published_parameter_counts(name):
    model, shape = meta(name)
    assert count_cost(model, shape).params == PUBLISHED_PARAMS[name]


def test_alexnet_2012_two_towers_by_hand():
    model, shape = meta("alexnet-2012")
    c = count_cost(model, shape)
    convs = [(3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2), (384, 256, 3, 2)]
    fcs = [(9216, 4096), (4096, 4096), (4096, 1000)]
    assert c.params == sum(o * i // g * k * k + o for i, o, k, g in convs) + sum(i * o + o for i, o in fcs)
    assert c.params == 60_965_224
    # neurons: 96x55x55, 256x27x27, 384x13x13 (twice), 256x13x13, then 4096 + 4096 + 1000 (the paper's "650,000")
    assert c.neurons == 290_400 + 186_624 + 2 * 64_896 + 43_264 + 9_192


def test_vgg16_macs_by_formula():
    c = count_cost(*meta("vgg16"))
    plan = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256), (56, 256, 256),
            (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512), (14, 512, 512), (14, 512, 512),
            (14, 512, 512)]
    assert c.macs == sum(s * s * o * i * 9 for s, i, o in plan) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert c.macs == 15_470_264_320


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_macs_agree_with_a_hook_count(name):
    model, shape = meta(name)
    assert count_cost(model, shape).macs == hook_macs(model, shape)


def test_unsupported_layer_is_rejected():
    with pytest.raises(IncompatibleModelError, match="BatchNorm2d"):
        count_cost(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), (1, 5, 5), device="cpu")


def test_count_leaves_mode_flags_and_hooks_as_found():
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5)).train()
    count_cost(net, (3,), device="cpu")
    assert net.training and not net[0]._forward_hooks and net[0].weight.requires_grad


def test_weight_parametrizations_are_not_counted_as_layers_or_per_image_work():
    plain = count_cost(build("resnet-mlp"), (1, 8, 8), device="cpu")
    constrained = count_cost(build("resnet-mlp", constrain_orthogonal=True), (1, 8, 8), device="cpu")
    assert constrained == plain
