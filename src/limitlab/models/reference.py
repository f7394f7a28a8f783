"""The reference digits CNN: the zoo CNN trained the standard way, one model shared by many studies.

Studies that probe *a trained classifier* (adversarial, calibration, interpretability, invariance) ask
for it here instead of each training their own copy: built under a seed derived from the run seed and
`replica` only, and trained through `fit` with one fixed recipe, so the cache key is the same in every
study and a suite run trains it once.
"""
from __future__ import annotations

from torch import nn

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.train import TrainConfig, fit
from limitlab.models.zoo import build


def digits_cnn(ctx: Context, *, epochs: int = 40, replica: int = 0) -> nn.Module:
    """The zoo CNN (dropout 0.25) on the digits train split: Adam (lr 2e-3, batches of 64), at most
    `epochs` epochs, early stopping on validation loss (patience 8). `replica` k > 0 gives the k-th
    independently initialized copy, for studies that report spread over seeds. Returned in eval mode."""
    data = digits()
    with ctx.seeded_torch("digits-cnn", replica):  # the initialization depends on the seed only
        model = build("cnn")
    fit(model, data.train, val=data.val, ctx=ctx, description=f"train reference cnn #{replica}",
        config=TrainConfig(epochs=epochs, lr=2e-3, eval_train=False))
    return model.eval()
