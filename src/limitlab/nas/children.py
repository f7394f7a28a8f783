"""Training the children of an architecture search by one fixed protocol, each distinct architecture once.

Zoph, Le. Neural architecture search with reinforcement learning. ICLR 2017, arXiv:1611.01578: a child
is trained and its validation accuracy is the reward. Here a child's initial weights come from a stream
named by its architecture, so an architecture proposed twice (by any searcher, any search seed) is the
same network: it is trained once (memo within a run, `fit`'s cache across runs) and scored identically;
every proposal still counts against its searcher's budget.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models import TrainConfig, evaluate, fit
from limitlab.nas.space import build_child, canonical, describe


@dataclass(frozen=True)
class Child:
    val_acc: float
    test_acc: float
    params: int
    steps: int
    seconds: float


class ChildTrainer:
    """`trainer(choices) -> validation accuracy`: the reward a searcher sees. Children are trained with Adam
    for `epochs` epochs on the first `num_train` training digits (batches of 50, no early stopping)."""

    def __init__(self, *, num_train: int, epochs: int, lr: float, ctx: Context) -> None:
        data = digits()
        self.train, self.val, self.test = data.train.subset(slice(0, num_train)), data.val, data.test
        self.config = TrainConfig(epochs=epochs, lr=lr, batch_size=50, patience=None, eval_train=False)
        self.ctx = ctx
        self.children: dict[tuple[int, ...], Child] = {}

    def fit(self, model: nn.Module, key: object, description: str) -> Child:
        """Train `model` by the protocol (cached under `key`) and score it."""
        hist = fit(model, self.train, ctx=self.ctx, key={"child": str(key)}, description=description,
                   config=self.config)
        return Child(evaluate(model, self.val)[1], evaluate(model, self.test)[1],
                     sum(p.numel() for p in model.parameters()), hist.steps, hist.seconds)

    def __call__(self, choices: tuple[int, ...]) -> float:
        arch = canonical(choices)
        if arch not in self.children:
            with self.ctx.seeded_torch("child", arch):  # initial weights depend on the architecture only
                model = build_child(arch)
            self.children[arch] = self.fit(model, arch, describe(arch))
        return self.children[arch].val_acc

    def best(self, choices: tuple[int, ...]) -> Child:
        """The trained child of `choices` (it must have been proposed)."""
        return self.children[canonical(choices)]
