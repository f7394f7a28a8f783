"""The audit's time over its floor: the bare forward and backward passes it needs, replayed.

The floor is what any audit doing the same measurements must pay: every forward pass the audit made
(same batch sizes), each followed by a backward pass to the input where the audit took a gradient
(attacks, the gradient check). A recorder around the model logs them during one audit; the floor
replays them on the same model with nothing else. The ratio is everything the audit adds: attack
bookkeeping, Square's search, scores, the bootstrap, the runner, results. Measured in one run, the
audit and its floor timed in alternation (`limitlab.timing.best_time_ratio`), on a small CNN trained
for a few epochs on the digits upsampled to 28 x 28 (300 test inputs), at the default preset.

`python benchmarks/bench_audit.py restarts` prints the measurement behind the default PGD steps and
restarts (`limitlab.audit.robustness`): inputs left correct by PGD for steps x restarts on the digits
MLP and CNN.
"""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from torch import nn

from limitlab.attacks.restarts import pgd_restarts
from limitlab.audit import audit
from limitlab.cache import ModelCache, default_cache_dir
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.models import TrainConfig, build, fit
from limitlab.timing import best_time_ratio
from limitlab.uncertainty.mc_dropout import dropout_layers


class Recorder(nn.Module):
    """The model, logging for each call (batch shape, whether a backward pass to the input can follow,
    whether dropout is sampling: MC dropout's passes)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.calls, self.on = model, [], True

    def forward(self, x):
        if self.on:
            sampling = any(m.training for m in dropout_layers(self.model))
            self.calls.append((tuple(x.shape), torch.is_grad_enabled() and x.requires_grad, sampling))
        return self.model(x)


def floor(model: nn.Module, calls: list, num_classes: int) -> None:
    """Every recorded pass again, bare: a forward (sampling dropout where the audit did), and a backward to the
    input where the audit took one."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    for shape, grad, sampling in calls:
        for m in dropout_layers(model):
            m.train(sampling)
        x = torch.rand(shape)
        y = torch.randint(0, num_classes, shape[:1])
        if grad:
            x.requires_grad_(True)
            torch.autograd.grad(F.cross_entropy(model(x), y, reduction="sum"), x)
        else:
            with torch.no_grad():
                model(x)


def cnn28() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    up = lambda d: ArrayDataset(F.interpolate(d.x, size=28, mode="bilinear"), d.y, d.name + "-28", 10)  # noqa: E731
    data = digits()
    ctx = Context(seed=0, cache=ModelCache(default_cache_dir()))
    with ctx.seeded_torch("init", "bench-audit"):
        model = build("cnn", in_shape=(1, 28, 28))
    fit(model, up(data.train), ctx=ctx, config=TrainConfig(epochs=8, eval_train=False), description="cnn 28x28")
    test = up(data.test)
    return model.eval(), test.x[:300], test.y[:300]


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model, x, y = cnn28()
    recorder = Recorder(model)
    results = audit(recorder, x, y, bounds=(0.0, 1.0))
    calls, recorder.on = list(recorder.calls), False
    backward = sum(g for _, g, _ in calls)
    rows = sum(s[0] for s, _, _ in calls)
    ratio, base = best_time_ratio(lambda: audit(recorder, x, y, bounds=(0.0, 1.0)), lambda: floor(model, calls, 10),
                                  repeats=3)
    print(f"audit of a 28x28 CNN on {len(x)} inputs (default preset): {len(calls)} forward passes ({rows} rows), "
          f"{backward} with a backward pass; floor {base:.1f} s; audit {ratio:.2f}x the floor")
    model.eval()
    print("verdicts: " + ", ".join(f"{r.study.removeprefix('audit-')} {r.verdict}" for r in results))


def restarts() -> None:
    torch.set_num_threads(1)
    data = digits()
    ctx = Context(seed=0, cache=ModelCache(default_cache_dir()))
    for name in ("mlp", "cnn"):
        with ctx.seeded_torch("init", "bench-restarts", name):
            model = build(name)
        fit(model, data.train, val=data.val, ctx=ctx, config=TrainConfig(epochs=15, eval_train=False))
        model.eval()
        for eps in (0.03, 0.05, 0.1, 0.2):
            cells = []
            for steps in (10, 20, 40):
                for r in (1, 2, 4, 8):
                    adv = pgd_restarts(model, data.test.x, data.test.y, eps=eps, steps=steps, restarts=r,
                                       generator=torch.Generator().manual_seed(1))
                    with torch.no_grad():
                        cells.append(f"{steps}x{r}:{int((model(adv).argmax(1) == data.test.y).sum())}")
            print(f"{name} eps {eps}: inputs left correct by steps x restarts: {' '.join(cells)}")


if __name__ == "__main__":
    restarts() if sys.argv[1:] == ["restarts"] else main()
