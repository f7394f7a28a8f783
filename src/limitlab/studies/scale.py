"""Scale: the numbers behind "deep learning is computationally intensive", computed rather than quoted.

Simonyan, Zisserman. Very deep convolutional networks for large-scale image recognition. ICLR 2015,
arXiv:1409.1556 (VGG16 = configuration D, 138,357,544 parameters). Krizhevsky, Sutskever, Hinton.
ImageNet classification with deep convolutional neural networks. NeurIPS 2012 ("60 million parameters
and 650,000 neurons"; two GPU towers, so conv2, conv4 and conv5 see half the channels); torchvision's
single-tower AlexNet (Krizhevsky 2014, "One weird trick", 61,100,840 parameters). Kaplan et al. 2020,
Scaling laws for neural language models (training ~ 3 x forward: the backward pass costs about twice
the forward). Sources: 002 ("computationally intensive to train and deploy"), 001 (GPUs gave 5x-50x;
60 million parameters, 650,000 neurons), 000 (the brain: about 1e11 neurons, 1.5e14 synapses,
"roughly 10000 VGG16's").

Protocol: VGG16, the 2012 network (two-tower, 227x227 input) and torchvision's single-tower AlexNet
(224x224) are written from their published layer tables as weightless modules on the `meta` device
(no memory is allocated); the zoo models are built with `limitlab.models.build`. `count_cost` runs one
forward pass with hooks and counts per image: parameters; multiply-accumulates (MACs) of every
convolution and linear layer (element-wise work — activations, pooling, residual sums — is not
counted); neurons (outputs of convolution and linear layers, the paper's "units"); activations (outputs
of every computing leaf layer, what training stores). Training compute = 6 FLOPs per MAC per example
(2 FLOPs per MAC, forward + a backward of twice the cost). On this machine, each zoo model is trained
with Adam on digits for `seconds_per_model` (wall clock) and its examples/s and achieved FLOP/s are
measured, beside a large float32 matmul as the machine's practical peak. These timings vary with load,
so they are tables and figures, not metrics; the metrics are the counts. No GPU is available, so the
5x-50x GPU speed-up of source 001 is not measured.

Brain comparisons (source 000's counts, configurable): brain neurons / VGG16 neurons, brain neurons /
VGG16 parameters, brain synapses / VGG16 parameters (a synapse as one weight) and brain synapses /
VGG16 connections (a connection = one MAC per image: weight sharing makes a convolution's connections
far more numerous than its weights).

Verdict: "counts" = VGG16 has exactly 138,357,544 parameters and the single-tower AlexNet exactly
61,100,840 (the published counts); "ratio" = at least one of the four brain / VGG16 ratios rounds to
1e4 on a log scale, i.e. lies in [10^3.5, 10^4.5) (within a factor sqrt(10) ~ 3.2 of 10000, the
precision of "roughly 10000"). The claim holds if both hold; it fails if no ratio gives 1e4
(whatever the counts); it is inconclusive if a ratio gives 1e4 but the counts do not match. The
evidence names the ratios that give 1e4 and those that do not.
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import digits
from limitlab.errors import IncompatibleModelError
from limitlab.models import build
from limitlab.result import Figure, Metric, Result, Table, Verdict
from limitlab.study import Study, register

PUBLISHED_PARAMS = {"vgg16": 138_357_544, "alexnet": 61_100_840}
IMAGENET_IMAGES = 1_281_167  # ILSVRC-2012 training set
EPOCHS = {"vgg16": 74, "alexnet-2012": 90, "alexnet": 90}  # as trained in the papers
FLOPS_PER_MAC_TRAINING = 6  # 2 FLOPs per MAC, x3 for forward + backward (Kaplan et al. 2020)
LOW, HIGH = 10 ** 3.5, 10 ** 4.5  # "roughly 10000": rounds to 1e4 on a log scale
SKIP = (nn.Flatten, nn.Dropout, nn.Identity)  # views or no-ops in eval: no new numbers


# ----------------------------------------------------------------------------- architectures
def _features(cfg: Sequence[int | str]) -> nn.Sequential:
    layers: list[nn.Module] = []
    c = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU(inplace=True)]
            c = int(v)
    return nn.Sequential(*layers)


def _classifier(in_features: int, num_classes: int) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes))


def vgg16(*, num_classes: int = 1000) -> nn.Module:
    """VGG configuration D (Simonyan & Zisserman 2015, table 1): thirteen 3x3 convolutions, three dense layers."""
    cfg = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
    return nn.Sequential(_features(cfg), _classifier(512 * 7 * 7, num_classes))


def alexnet(*, num_classes: int = 1000) -> nn.Module:
    """The single-tower AlexNet of torchvision (Krizhevsky 2014), 224x224 input."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        _classifier(256 * 6 * 6, num_classes))


def alexnet_2012(*, num_classes: int = 1000) -> nn.Module:
    """The 2012 network (Krizhevsky et al. 2012, figure 2): 227x227 input, two towers = groups=2 in
    conv2, conv4, conv5, local response normalization after conv1 and conv2."""
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        _classifier(256 * 6 * 6, num_classes))


ARCHITECTURES = {"vgg16": (vgg16, (3, 224, 224)), "alexnet": (alexnet, (3, 224, 224)),
                 "alexnet-2012": (alexnet_2012, (3, 227, 227))}


# ----------------------------------------------------------------------------- counting
@dataclass(frozen=True)
class Cost:
    """Per-image counts of one forward pass."""

    params: int
    macs: int
    neurons: int
    activations: int


def count_cost(model: nn.Module, in_shape: Sequence[int], *, device: str | torch.device = "meta") -> Cost:
    """Count parameters, and per image MACs, neurons and activations, with one forward pass of one image.

    On the `meta` device nothing is allocated (shapes only). MACs of `Conv1d`/`Conv2d` are output
    elements x (in_channels / groups) x kernel size; of `Linear`, output elements x in_features. A module
    with its own parameters of another type raises IncompatibleModelError (its MACs would be missed).
    """
    supported = (nn.Conv1d, nn.Conv2d, nn.Linear)
    for name, mod in model.named_modules():
        own = [n for n, _ in mod.named_parameters(recurse=False)]
        if own and not isinstance(mod, supported) and not name.endswith("parametrizations") \
                and ".parametrizations." not in name:
            raise IncompatibleModelError(f"layer {name!r} ({type(mod).__name__}) has parameters {own}; "
                                         "count_cost counts Conv1d, Conv2d and Linear only: use those layers")
    totals = {"macs": 0, "neurons": 0, "activations": 0}

    def hook(mod: nn.Module, inputs, out: Tensor) -> None:
        per_image = out.numel() // out.shape[0]
        if isinstance(mod, (nn.Conv1d, nn.Conv2d)):
            totals["macs"] += per_image * (mod.in_channels // mod.groups) * math.prod(mod.kernel_size)
        elif isinstance(mod, nn.Linear):
            totals["macs"] += per_image * mod.in_features
        if isinstance(mod, supported):
            totals["neurons"] += per_image
        if not isinstance(mod, SKIP):
            totals["activations"] += per_image

    leaves = [m for name, m in model.named_modules() if "parametrizations" not in name  # weight reparametrizations
              and (isinstance(m, supported) or not any(True for _ in m.children()))]  # are not layer outputs
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model.to(device)(torch.zeros(1, *in_shape, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return Cost(params=params, **totals)


# ----------------------------------------------------------------------------- timing
def train_throughput(model: nn.Module, x: Tensor, y: Tensor, *, seconds: float, batch_size: int,
                     generator: torch.Generator) -> tuple[int, float]:
    """(examples, seconds) of Adam training steps on random batches of (x, y) for about `seconds`
    of wall time, after one warm-up step. The model's weights change: pass a throw-away copy."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step() -> None:
        idx = torch.randint(0, len(x), (batch_size,), generator=generator)
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    examples, start = 0, time.perf_counter()
    while True:
        step()
        examples += batch_size
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return examples, elapsed


def matmul_flops(*, size: int, seconds: float) -> float:
    """FLOP/s of repeated float32 (size x size) @ (size x size) products: the machine's practical peak."""
    a, b = torch.ones(size, size), torch.ones(size, size)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * size ** 3 * count / (time.perf_counter() - start)


# ----------------------------------------------------------------------------- the study
@dataclass(frozen=True)
class ScaleConfig:
    zoo_models: tuple[str, ...] = ("logreg", "mlp", "cnn", "resnet-mlp")
    seconds_per_model: float = 2.0  # wall time of training per zoo model for the throughput
    batch_size: int = 64
    matmul_size: int = 512
    brain_neurons: float = 1e11  # source 000: "about 100 billion neurons"
    brain_synapses: float = 1.5e14  # source 000: "around 1.5 x 10^14 synapses"

    def __post_init__(self) -> None:
        check(0 < self.seconds_per_model <= 600, f"seconds_per_model={self.seconds_per_model}; expected 0 < s <= 600")
        check(self.batch_size >= 1, f"batch_size={self.batch_size}; expected >= 1")
        check(16 <= self.matmul_size <= 8192, f"matmul_size={self.matmul_size}; expected 16..8192")
        check(self.brain_neurons > 0 and self.brain_synapses > 0, "brain_neurons and brain_synapses must be > 0")


RATIOS = {  # name -> (brain count, VGG16 count, description)
    "neurons_per_neuron": ("brain_neurons", "neurons", "brain neurons / VGG16 neurons"),
    "neurons_per_param": ("brain_neurons", "params", "brain neurons / VGG16 parameters"),
    "synapses_per_param": ("brain_synapses", "params", "brain synapses / VGG16 parameters"),
    "synapses_per_connection": ("brain_synapses", "macs", "brain synapses / VGG16 connections (MACs per image)"),
}


@register("scale", chapter="cost", sources=("000", "001", "002"))
class Scale(Study[ScaleConfig]):
    """Computational cost of deep networks (Simonyan & Zisserman 2015; Krizhevsky et al. 2012). Sources: 000, 001, 002."""

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
        metrics: dict[str, Metric | float | tuple] = {}
        for name, c in costs.items():
            metrics[f"params_{name}"] = (c.params, "count", f"parameters of {name}")
            metrics[f"macs_{name}"] = (c.macs, "MACs/image", f"multiply-accumulates per image, {name}")
            metrics[f"neurons_{name}"] = (c.neurons, "count", f"conv/linear outputs per image, {name}")
            metrics[f"activations_{name}"] = (c.activations, "count", f"layer outputs per image, {name}")
        for name, epochs in EPOCHS.items():
            metrics[f"train_flops_{name}"] = (FLOPS_PER_MAC_TRAINING * costs[name].macs * IMAGENET_IMAGES * epochs,
                                              "FLOPs", f"training {name}: {epochs} epochs of ImageNet")
        vgg = costs["vgg16"]
        for key, (brain, count, text) in RATIOS.items():
            metrics[f"ratio_{key}"] = (getattr(cfg, brain) / getattr(vgg, count), "ratio", text)
        speed = self.throughput(ctx, costs)
        peak = matmul_flops(size=cfg.matmul_size, seconds=max(cfg.seconds_per_model / 2, 0.05))
        tables = [self.count_table(costs), self.speed_table(speed, peak, metrics), self.ratio_table(metrics, vgg)]
        return self.result(ctx, metrics=metrics, tables=tables, figures=self.figures(costs, speed, peak, metrics))

    def throughput(self, ctx: Context, costs: Mapping[str, Cost]) -> dict[str, tuple[float, float]]:
        """Zoo model -> (examples/s, achieved training FLOP/s), measured on digits."""
        cfg, train = self.config, digits().train
        out = {}
        for name in ctx.progress.track(cfg.zoo_models, description="throughput"):
            n, secs = train_throughput(build(name), train.x, train.y, seconds=cfg.seconds_per_model,
                                       batch_size=cfg.batch_size, generator=ctx.generator("batches", name))
            out[name] = (n / secs, n / secs * FLOPS_PER_MAC_TRAINING * costs[name].macs)
        return out

    def count_table(self, costs: Mapping[str, Cost]) -> Table:
        rows = [[name, c.params, c.macs, c.neurons, c.activations, c.activations * 4] for name, c in costs.items()]
        return Table("Counts per image (forward pass)", ["model", "parameters", "MACs", "neurons",
                                                         "activations", "activation bytes (float32)"], rows,
                     caption="Counted by forward hooks on weightless modules; MACs of convolutions and dense layers only.")

    def speed_table(self, speed, peak: float, metrics) -> Table:
        rows = [[name, f"{ex:.0f}", f"{fl / 1e9:.3g}", f"{fl / peak:.1%}"] for name, (ex, fl) in speed.items()]
        rows.append([f"matmul {self.config.matmul_size}^2 (practical peak)", "", f"{peak / 1e9:.3g}", "100%"])
        for name in EPOCHS:
            flops = metrics[f"train_flops_{name}"][0]
            rows.append([f"{name} on ImageNet ({EPOCHS[name]} epochs, {flops:.2g} FLOPs) at peak", "",
                         f"{flops / peak / 86400 / 365:.3g} years", ""])
        return Table("Achieved training throughput on this machine", ["model", "examples/s", "GFLOP/s",
                                                                      "of matmul peak"], rows,
                     caption=(f"Adam training steps (batch {self.config.batch_size}) for {self.config.seconds_per_model} s "
                              "per model, FLOP/s = examples/s x 6 x MACs. Wall-clock: varies with the machine and its load."))

    def ratio_table(self, metrics, vgg: Cost) -> Table:
        rows = []
        for key, (brain, count, text) in RATIOS.items():
            r = metrics[f"ratio_{key}"][0]
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
            figures.bars(zoo + ["matmul peak"], [{"label": "GFLOP/s",
                                                  "values": [speed[n][1] / 1e9 for n in zoo] + [peak / 1e9]}],
                         title="achieved GFLOP/s (training)", ylabel="GFLOP/s")],
            caption="Small models reach a small fraction of the machine's matmul rate; wall-clock, varies with load.")
        keys = list(RATIOS)
        brain = Figure("brain", "How many VGG16s is a brain?", [figures.bars(
            [RATIOS[k][2].replace("brain ", "").replace(" (MACs per image)", "") for k in keys],
            [{"label": "log10(ratio)", "values": [math.log10(metrics[f"ratio_{k}"][0]) for k in keys]}],
            title="'roughly 10000' is 4 on this scale", ylabel="log10(ratio)")],
            caption=f"Brain counts from source 000 ({self.config.brain_neurons:.1g} neurons, "
                    f"{self.config.brain_synapses:.2g} synapses); which VGG16 count is divided matters by 3 orders of magnitude.")
        return [counts, rate, brain]

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        counts = all(m[f"params_{n}"] == p for n, p in PUBLISHED_PARAMS.items())
        hits = [RATIOS[k][2] + f" = {m[f'ratio_{k}']:.3g}" for k in RATIOS if LOW <= m[f"ratio_{k}"] < HIGH]
        misses = [RATIOS[k][2] + f" = {m[f'ratio_{k}']:.3g}" for k in RATIOS if not LOW <= m[f"ratio_{k}"] < HIGH]
        text = (f"VGG16 has {m['params_vgg16']:,.0f} parameters (published 138,357,544) and "
                f"{m['macs_vgg16'] / 1e9:.2f} GMACs per image; AlexNet {m['params_alexnet']:,.0f} (published "
                f"61,100,840), the 2012 two-tower net {m['params_alexnet-2012']:,.0f} parameters and "
                f"{m['neurons_alexnet-2012']:,.0f} neurons; training VGG16 takes {m['train_flops_vgg16']:.2g} FLOPs. "
                f"'Roughly 10000 VGG16s' is reproduced by {'; '.join(hits) if hits else 'no ratio'}, "
                f"not by {'; '.join(misses) if misses else 'none'}")
        if not hits:
            return Verdict("fails", text + ".")
        if not counts:
            return Verdict("inconclusive", text + ". Not shown: counts (the parameter counts do not match the published ones).")
        return Verdict("holds", text + ".")
