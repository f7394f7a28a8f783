"""Deep ensembles: M zoo CNNs on digits that differ only in their initialization.

Lakshminarayanan, Pritzel, Blundell. Simple and scalable predictive uncertainty estimation using deep
ensembles. NeurIPS 2017, arXiv:1612.01474. Members are trained through `fit`, so every study that asks
for the same ensemble (uncertainty, calibration) shares the cached members.
"""
from __future__ import annotations

from torch import nn

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.train import TrainConfig, fit
from limitlab.models.zoo import build


def train_members(ctx: Context, *, num_members: int, epochs: int, dropout: float) -> list[nn.Module]:
    """A deep ensemble of zoo CNNs on digits, one init seed per member (cached by `fit`)."""
    data, models = digits(), []
    for i in ctx.progress.track(range(num_members), description="ensemble"):
        with ctx.seeded_torch("member", i):  # a different initialization per member
            model = build("cnn", dropout=dropout)
        fit(model, data.train, val=data.val, ctx=ctx, config=TrainConfig(epochs=epochs, lr=2e-3, eval_train=False),
            key={"member": i}, description=f"train member {i}")
        models.append(model)
    return models
