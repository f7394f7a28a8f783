"""Scale: the numbers behind "deep learning is computationally intensive", computed rather than quoted.

Simonyan, Zisserman. Very deep convolutional networks for large-scale image recognition. ICLR 2015, arXiv:1409.1556
(VGG16 = configuration D, 138,357,544 parameters). Krizhevsky, Sutskever, Hinton. ImageNet classification with deep
convolutional neural networks. NeurIPS 2012 ("60 million parameters and 650,000 neurons"; two GPU towers, so conv2,
conv4 and conv5 see half the channels); torchvision's single-tower AlexNet (Krizhevsky 2014, "One weird trick",
61,100,840 parameters). Kaplan et al. 2020, Scaling laws for neural language models (training ~ 3 x forward: the
backward pass costs about twice the forward). Sources: 002 ("computationally intensive to train and deploy"), 001
(GPUs gave 5x-50x; 60 million parameters, 650,000 neurons), 000 (the brain: about 1e11 neurons, 1.5e14 synapses,
"roughly 10000 VGG16's").

Protocol: VGG16, the 2012 network (two-tower, 227x227 input) and torchvision's single-tower AlexNet (224x224) are
written from their published layer tables (`limitlab.models.imagenet`) as weightless modules on the `meta` device
(no memory is allocated); the zoo models are built with `limitlab.models.build`. `limitlab.models.cost.count_cost`
runs one forward pass and counts per image: parameters; multiply-accumulates (MACs) of every convolution and matrix
product, from torch's `FlopCounterMode` (element-wise work — activations, pooling, residual sums — is not counted);
neurons (outputs of convolution and linear layers, the paper's "units"); activations (outputs of every computing
leaf layer, what training stores). Training compute = 6 FLOPs per MAC per example (2 FLOPs per MAC, forward + a
backward of twice the cost). On this machine, each zoo model is trained with Adam on digits for `seconds_per_model`
(wall clock, `limitlab.timing`) and its examples/s and achieved FLOP/s are measured, beside a large float32 matmul
as the machine's practical peak. These timings vary with load, so they are tables and figures, not metrics; the
metrics are the counts. No GPU is available, so the 5x-50x GPU speed-up of source 001 is not measured.

Brain comparisons (source 000's counts, configurable): brain neurons / VGG16 neurons, brain neurons / VGG16
parameters, brain synapses / VGG16 parameters (a synapse as one weight) and brain synapses / VGG16 connections (a
connection = one MAC per image: weight sharing makes a convolution's connections far more numerous than its
weights).

Verdict: "counts" = VGG16 has exactly 138,357,544 parameters and the single-tower AlexNet exactly 61,100,840 (the
published counts); "ratio" = at least one of the four brain / VGG16 ratios rounds to 1e4 on a log scale, i.e. lies
in [10^3.5, 10^4.5) (within a factor sqrt(10) ~ 3.2 of 10000, the precision of "roughly 10000"). The claim holds if
both hold; it fails if no ratio gives 1e4 (whatever the counts); it is inconclusive if a ratio gives 1e4 but the
counts do not match. The evidence names the ratios that give 1e4 and those that do not.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch

from limitlab import figures
from limitlab.config import Checked, Each, Interval, OneOf
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import MODELS, build
from limitlab.models.cost import Cost, count_cost
from limitlab.models.imagenet import ARCHITECTURES, PUBLISHED_PARAMS
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, every, fmt
from limitlab.study import Study, register
from limitlab.timing import matmul_flops, train_throughput

IMAGENET_IMAGES = 1_281_167  # ILSVRC-2012 training set
EPOCHS = {"vgg16": 74, "alexnet-2012": 90, "alexnet": 90}  # as trained in the papers
FLOPS_PER_MAC_TRAINING = 6  # 2 FLOPs per MAC, x3 for forward + backward (Kaplan et al. 2020)
LOW, HIGH = 10 ** 3.5, 10 ** 4.5  # "roughly 10000": rounds to 1e4 on a log scale
POSITIVE = Interval(0, closed="neither")


@dataclass(frozen=True)
class ScaleConfig(Checked):
    constraints: ClassVar = {"zoo_models": Each(OneOf(tuple(MODELS)), min_len=1, unique=True),
                             "seconds_per_model": Interval(0, 600, closed="right"), "batch_size": Interval(1),
                             "matmul_size": Interval(16, 8192), "brain_neurons": POSITIVE, "brain_synapses": POSITIVE}
    zoo_models: tuple[str, ...] = ("logreg", "mlp", "cnn", "resnet-mlp")
    seconds_per_model: float = 0.5  # wall time of training per zoo model for the throughput (hundreds of steps)
    batch_size: int = 64
    matmul_size: int = 512
    brain_neurons: float = 1e11  # source 000: "about 100 billion neurons"
    brain_synapses: float = 1.5e14  # source 000: "around 1.5 x 10^14 synapses"


RATIOS = {  # name -> (brain count, VGG16 count, description)
    "neurons_per_neuron": ("brain_neurons", "neurons", "brain neurons / VGG16 neurons"),
    "neurons_per_param": ("brain_neurons", "params", "brain neurons / VGG16 parameters"),
    "synapses_per_param": ("brain_synapses", "params", "brain synapses / VGG16 parameters"),
    "synapses_per_connection": ("brain_synapses", "macs", "brain synapses / VGG16 connections (MACs per image)"),
}


@register("scale", chapter="cost", sources=("000", "001", "002"))
class Scale(Study[ScaleConfig]):
    """Computational cost of deep networks (Simonyan & Zisserman 2015; Krizhevsky et al. 2012). Sources: 000-002."""

    claim = ("Deep networks are computationally intensive: VGG16 has 138 million parameters, the 2012 "
             "ImageNet network 60 million, and the brain is 'roughly 10000 VGG16s'.")
    Config = ScaleConfig
    presets = {"tiny": {"zoo_models": ("logreg", "cnn"), "seconds_per_model": 0.1, "matmul_size": 128},
               "full": {"zoo_models": ("logreg", "mlp", "cnn", "resnet-mlp", "ode-net"), "seconds_per_model": 10.0,
                        "matmul_size": 1024}}

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        with torch.device("meta"):  # weightless: 138 million parameters cost no memory and no init time
            costs = {name: count_cost(make(), shape) for name, (make, shape) in ARCHITECTURES.items()}
        costs.update({name: count_cost(build(name), (1, 8, 8), device="cpu") for name in cfg.zoo_models})
        metrics = Metrics()
        for name, c in costs.items():
            metrics.add(f"params_{name}", c.params, "count", f"parameters of {name}")
            metrics.add(f"macs_{name}", c.macs, "MACs/image", f"multiply-accumulates per image, {name}")
            metrics.add(f"neurons_{name}", c.neurons, "count", f"conv/linear outputs per image, {name}")
            metrics.add(f"activations_{name}", c.activations, "count", f"layer outputs per image, {name}")
        for name, epochs in EPOCHS.items():
            metrics.add(f"train_flops_{name}", FLOPS_PER_MAC_TRAINING * costs[name].macs * IMAGENET_IMAGES * epochs,
                        "FLOPs", f"training {name}: {epochs} epochs of ImageNet")
        vgg = costs["vgg16"]
        for key, (brain, count, text) in RATIOS.items():
            metrics.add(f"ratio_{key}", getattr(cfg, brain) / getattr(vgg, count), "ratio", text)
        speed = self.throughput(ctx, costs)
        peak = matmul_flops(size=cfg.matmul_size, seconds=max(cfg.seconds_per_model / 2, 0.05))
        tables = [self.count_table(costs), self.speed_table(speed, peak, metrics), self.ratio_table(metrics, vgg)]
        return self.result(ctx, metrics=metrics, tables=tables, figures=self.figures(costs, speed, peak, metrics))

    def throughput(self, ctx: Context, costs: Mapping[str, Cost]) -> dict[str, tuple[float, float]]:
        """Zoo model -> (examples/s, achieved training FLOP/s), measured on digits."""
        cfg, train = self.config, digits().train
        out = {}
        for name in ctx.progress.track(cfg.zoo_models, description="throughput"):
            with ctx.seeded_torch("init", name):
                model = build(name)
            n, secs = train_throughput(model, train.x, train.y, seconds=cfg.seconds_per_model,
                                       batch_size=cfg.batch_size, generator=ctx.generator("batches", name))
            out[name] = (n / secs, n / secs * FLOPS_PER_MAC_TRAINING * costs[name].macs)
        return out

    def count_table(self, costs: Mapping[str, Cost]) -> Table:
        rows = [[name, c.params, c.macs, c.neurons, c.activations, c.activations * 4] for name, c in costs.items()]
        return Table("Counts per image (forward pass)", ["model", "parameters", "MACs", "neurons",
                                                         "activations", "activation bytes (float32)"], rows,
                     caption="Counted on weightless modules; MACs (torch's FlopCounterMode / 2) of convolutions and "
                             "matrix products only.")

    def speed_table(self, speed, peak: float, metrics) -> Table:
        rows = [[name, f"{ex:.0f}", f"{fl / 1e9:.3g}", f"{fl / peak:.1%}"] for name, (ex, fl) in speed.items()]
        rows.append([f"matmul {self.config.matmul_size}^2 (practical peak)", "", f"{peak / 1e9:.3g}", "100%"])
        for name in EPOCHS:
            flops = metrics[f"train_flops_{name}"].value
            rows.append([f"{name} on ImageNet ({EPOCHS[name]} epochs, {flops:.2g} FLOPs) at peak", "",
                         f"{flops / peak / 86400 / 365:.3g} years", ""])
        return Table("Achieved training throughput on this machine", ["model", "examples/s", "GFLOP/s",
                                                                      "of matmul peak"], rows,
                     caption=(f"Adam training steps (batch {self.config.batch_size}) for "
                              f"{self.config.seconds_per_model} s per model, FLOP/s = examples/s x 6 x MACs. "
                              "Wall-clock: varies with the machine and its load."))

    def ratio_table(self, metrics, vgg: Cost) -> Table:
        rows = []
        for key, (brain, count, text) in RATIOS.items():
            r = metrics[f"ratio_{key}"].value
            rows.append([text, f"{getattr(self.config, brain):.3g}", f"{getattr(vgg, count):,}", f"{r:.3g}",
                         "yes" if LOW <= r < HIGH else "no"])
        return Table("Which count gives 'roughly 10000 VGG16s'?", ["ratio", "brain", "VGG16", "ratio",
                                                                   "rounds to 1e4"], rows,
                     caption="Brain counts from source 000; 'rounds to 1e4' = within [10^3.5, 10^4.5).")

    def figures(self, costs, speed, peak, metrics) -> list[Figure]:
        names = list(costs)
        counts = Figure("counts", "Parameters, compute and neurons per image", [figures.bars(names, [
            {"label": "parameters", "values": [math.log10(costs[n].params) for n in names]},
            {"label": "MACs / image", "values": [math.log10(costs[n].macs) for n in names]},
            {"label": "neurons / image", "values": [math.log10(costs[n].neurons) for n in names]}],
            title="log10 of each count", ylabel="log10(count)")],
            caption="ImageNet networks (left) against the project's digit models: 4 to 7 orders of magnitude apart.")
        zoo = list(speed)
        rate = Figure("throughput", "Achieved training throughput on this machine", [
            figures.bars(zoo, [{"label": "examples/s", "values": [speed[n][0] for n in zoo]}],
                         title="examples per second", ylabel="examples/s"),
            figures.bars([*zoo, "matmul peak"], [{"label": "GFLOP/s",
                                                  "values": [speed[n][1] / 1e9 for n in zoo] + [peak / 1e9]}],
                         title="achieved GFLOP/s (training)", ylabel="GFLOP/s")],
            caption="Small models reach a small fraction of the machine's matmul rate; wall-clock, varies with load.")
        keys = list(RATIOS)
        brain = Figure("brain", "How many VGG16s is a brain?", [figures.bars(
            [RATIOS[k][2].replace("brain ", "").replace(" (MACs per image)", "") for k in keys],
            [{"label": "log10(ratio)", "values": [math.log10(metrics[f"ratio_{k}"].value) for k in keys]}],
            title="'roughly 10000' is 4 on this scale", ylabel="log10(ratio)")],
            caption=f"Brain counts from source 000 ({self.config.brain_neurons:.1g} neurons, "
                    f"{self.config.brain_synapses:.2g} synapses); which VGG16 count is divided matters by 3 orders of "
                    "magnitude.")
        return [counts, rate, brain]

    def judge(self, m: MetricValues) -> Verdict:
        counts = every(None if m[f"params_{n}"] is None else m[f"params_{n}"] == p for n, p in PUBLISHED_PARAMS.items())
        ratios = {RATIOS[k][2]: m[f"ratio_{k}"] for k in RATIOS}
        hits = [f"{text} = {r:.3g}" for text, r in ratios.items() if r is not None and LOW <= r < HIGH]
        misses = [f"{text} = {fmt(r, '.3g')}" for text, r in ratios.items() if r is None or not LOW <= r < HIGH]
        ratio = True if hits else (None if None in ratios.values() else False)
        text = (f"VGG16 has {fmt(m['params_vgg16'], ',.0f')} parameters (published 138,357,544) and "
                f"{fmt(None if m['macs_vgg16'] is None else m['macs_vgg16'] / 1e9, '.2f')} GMACs per image; AlexNet "
                f"{fmt(m['params_alexnet'], ',.0f')} (published 61,100,840), the 2012 two-tower net "
                f"{fmt(m['params_alexnet-2012'], ',.0f')} parameters and {fmt(m['neurons_alexnet-2012'], ',.0f')} "
                f"neurons; training VGG16 takes {fmt(m['train_flops_vgg16'], '.2g')} FLOPs. 'Roughly 10000 VGG16s' is "
                f"reproduced by {'; '.join(hits) or 'no ratio'}, not by {'; '.join(misses) or 'none'}")
        return Verdict.combine({"ratio": ratio, "counts": counts}, text, decisive=("ratio",), missing={
            "ratio": "No brain / VGG16 ratio rounds to 1e4.",
            "counts": "Not shown: counts (the parameter counts do not match the published ones)."})
