"""A heteroscedastic regression network: x -> (mean, variance), with dropout for MC sampling.

Kendall, Gal. What uncertainties do we need in Bayesian deep learning for computer vision? NeurIPS 2017,
arXiv:1703.04977. The network predicts the noise variance of each input (aleatoric uncertainty) by
minimizing the Gaussian negative log-likelihood; dropout kept on at test time (Gal & Ghahramani 2016)
samples the weights, and the spread of the sampled means is the model (epistemic) uncertainty.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.models.train import TrainConfig, fit


class MeanVarianceNet(nn.Module):
    """x (N, 1) -> (N, 2): the predicted mean and variance, with dropout after each hidden layer."""

    def __init__(self, hidden: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 2))

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        return torch.stack([out[:, 0], F.softplus(out[:, 1]) + 1e-4], dim=1)  # variance > 0


def gaussian_nll(out: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y under N(out[:, 0], out[:, 1]): Kendall & Gal's aleatoric loss
    (0.5 exp(-s) r^2 + 0.5 s with s = log variance, plus the constant 0.5 log 2 pi)."""
    return F.gaussian_nll_loss(out[:, 0], y, out[:, 1], full=True, reduction=reduction)


def train_mean_variance(train: ArrayDataset, *, ctx: Context, dropout: float, epochs: int) -> MeanVarianceNet:
    """A `MeanVarianceNet` initialized from its own named stream ("init", "mean-variance") and trained on `train`
    by Gaussian NLL (Adam, lr 3e-3, batches of 32, every epoch; cached by `fit`)."""
    with ctx.seeded_torch("init", "mean-variance"):
        model = MeanVarianceNet(dropout=dropout)
    fit(model, train, ctx=ctx, loss_fn=gaussian_nll, description="train regression",
        config=TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, patience=None, eval_train=False))
    return model
