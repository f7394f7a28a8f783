"""A zoo model trained on digits the standard way: for studies that attack or probe several trained models.

The CNN is the shared reference CNN (`limitlab.models.reference.digits_cnn`, cached across studies); the
other zoo models (logistic regression, MLP) are initialized from their own named stream ("init", name), so
adding or removing one never changes another, and trained by Adam with early stopping on validation loss.
"""
from __future__ import annotations

from torch import nn

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.reference import digits_cnn
from limitlab.models.train import TrainConfig, fit
from limitlab.models.zoo import build

LR = {"logreg": 0.05}  # the learning rate where Adam's 1e-3 is too slow (a linear model on 64 pixels)


def digits_model(ctx: Context, name: str, *, epochs: int) -> nn.Module:
    """Zoo model `name` trained on the digits train split (at most `epochs` epochs, patience 8), in eval mode."""
    if name == "cnn":
        return digits_cnn(ctx, epochs=epochs)
    with ctx.seeded_torch("init", name):
        model = build(name)
    fit(model, digits().train, val=digits().val, ctx=ctx, description=f"train {name}",
        config=TrainConfig(epochs=epochs, lr=LR.get(name, 1e-3), eval_train=False))
    return model.eval()
