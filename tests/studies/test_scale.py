"""The scale study: counts against published numbers, hand-worked layers, and torch's own FLOP counter."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from limitlab.context import Context
from limitlab.errors import IncompatibleModelError
from limitlab.models import build
from limitlab.studies.scale import ARCHITECTURES, RATIOS, Scale, count_cost, matmul_flops, train_throughput


def meta(name):
    make, shape = ARCHITECTURES[name]
    with torch.device("meta"):
        return make(), shape


def test_small_layers_by_hand():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 5 * 5, 5))
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


@pytest.mark.parametrize("name, published", [("vgg16", 138_357_544), ("alexnet", 61_100_840)])
def test_published_parameter_counts(name, published):
    model, shape = meta(name)
    assert count_cost(model, shape).params == published


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
def test_macs_agree_with_torch_flop_counter(name):
    model, shape = meta(name)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, *shape, device="meta"))
    assert counter.get_total_flops() == 2 * count_cost(model, shape).macs


def test_unsupported_layer_is_rejected():
    with pytest.raises(IncompatibleModelError, match="BatchNorm2d"):
        count_cost(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), (1, 5, 5), device="cpu")


def test_count_leaves_mode_and_hooks_as_found():
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5)).train()
    count_cost(net, (3,), device="cpu")
    assert net.training and not net[0]._forward_hooks


def test_throughput_and_matmul_measure_something():
    x, y = torch.rand(32, 1, 8, 8), torch.randint(0, 10, (32,))
    model = build("logreg")
    before = model[1].weight.detach().clone()
    n, secs = train_throughput(model, x, y, seconds=0.05, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert n % 8 == 0 and n >= 8 and secs >= 0.05
    assert not torch.equal(before, model[1].weight)  # it trained
    assert matmul_flops(size=64, seconds=0.02) > 0


def test_ratios_and_verdict_from_the_counts():
    study = Scale.configure(preset="tiny")
    result = study.run(Context(seed=0, threads=1))
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["ratio_synapses_per_param"] == pytest.approx(1.5e14 / 138_357_544)
    assert m["ratio_neurons_per_param"] == pytest.approx(1e11 / 138_357_544)
    assert m["ratio_synapses_per_connection"] == pytest.approx(1.5e14 / 15_470_264_320)
    assert m["train_flops_vgg16"] == 6 * 15_470_264_320 * 1_281_167 * 74
    assert m["params_cnn"] == 38_282
    hits = [k for k in RATIOS if 10 ** 3.5 <= m[f"ratio_{k}"] < 10 ** 4.5]
    assert result.verdict == ("holds" if hits else "fails")
    assert "1.08e+06" in result.evidence  # synapses / parameters, the reading that does not give 1e4
    assert len(result.tables) == 3 and {f.id for f in result.figures} == {"counts", "throughput", "brain"}


def test_verdict_rule_on_made_up_counts():
    study = Scale()
    m = {"params_vgg16": 138_357_544, "params_alexnet": 61_100_840, "params_alexnet-2012": 1, "macs_vgg16": 1e9,
         "neurons_alexnet-2012": 1, "train_flops_vgg16": 1.0}
    m.update({f"ratio_{k}": 1e6 for k in RATIOS})
    assert study.judge(m).status == "fails"
    m["ratio_neurons_per_neuron"] = 4e3
    assert study.judge(m).status == "holds"
    m["params_vgg16"] = 138_000_000
    assert study.judge(m).status == "inconclusive"
    m["ratio_neurons_per_neuron"] = 10 ** 4.5  # the upper edge is excluded
    assert study.judge(m).status == "fails"


def test_weight_parametrizations_are_not_counted_as_layers():
    plain = count_cost(build("resnet-mlp"), (1, 8, 8), device="cpu")
    constrained = count_cost(build("resnet-mlp", constrain_orthogonal=True), (1, 8, 8), device="cpu")
    assert constrained == plain
