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


class MeanVarianceNet(nn.Module):
    """x (N, 1) -> (N, 2): the predicted mean and variance, with dropout after each hidden layer."""

    def __init__(self, hidden: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 2))

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        return torch.stack([out[:, 0], F.softplus(out[:, 1]) + 1e-4], dim=1)  # variance > 0

