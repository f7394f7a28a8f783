"""The audit's test subjects: small models trained in the test (seconds each), one per case of issue 11,
and the planted problems (a model with exactly one thing wrong)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from torch import Tensor, nn

from limitlab.data import digits


def train(model: nn.Module, x: Tensor, y: Tensor, *, epochs: int = 30, lr: float = 1e-2, seed: int = 0,
          batch: int = 128) -> nn.Module:
    """Adam on the cross-entropy of the model's *logits* (the cases add their output layer afterwards)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def digits_xy(part: str = "train") -> tuple[Tensor, Tensor]:
    d = getattr(digits(), part)
    return d.x, d.y


def digits_mlp() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    return train(model, *digits_xy(), epochs=20)


class ExamplesNet(nn.Module):
    """pytorch/examples' MNIST Net, shrunk to 8x8 digits: conv, conv, max-pool, dropout, fc, log_softmax."""

    def __init__(self, log_softmax: bool = True) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, 1), nn.Conv2d(8, 16, 3, 1)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(16 * 2 * 2, 32), nn.Linear(32, 10)
        self.log_softmax = log_softmax

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = self.fc2(self.dropout2(F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))))
        return F.log_softmax(x, dim=1) if self.log_softmax else x


def examples_net() -> ExamplesNet:
    torch.manual_seed(0)
    net = ExamplesNet(log_softmax=False)
    train(net, *digits_xy(), epochs=15)
    net.log_softmax = True
    return net


class Quantize(nn.Module):
    """round(x / step) * step: the gradient of round is 0 everywhere (shattered gradients)."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def forward(self, x: Tensor) -> Tensor:
        return torch.round(x / self.step) * self.step


class Threshold(nn.Module):
    """(x > t) as floats: no gradient path from the output back to the input at all."""

    def __init__(self, t: float) -> None:
        super().__init__()
        self.t = t

    def forward(self, x: Tensor) -> Tensor:
        return (x > self.t).float()


def raw_digits(part: str = "train") -> tuple[Tensor, Tensor]:
    """Digits on their raw 0..16 pixel scale."""
    x, y = digits_xy(part)
    return x * 16, y


def preprocessed_logreg(pre: nn.Module, *, scale: float) -> nn.Module:
    """Logistic regression on raw 0..16 digits behind `pre`, trained on pre(x) / scale and then rescaled,
    so that it is one linear layer on pre(x) itself."""
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    x, y = raw_digits()
    train(lin, pre(x) / scale, y, epochs=30)
    with torch.no_grad():
        lin[1].weight /= scale
    return nn.Sequential(pre, lin).eval()


def breast_cancer() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(x_train, y_train, x_test, y_test): 30 raw features on very different scales, 2 classes."""
    bunch = load_breast_cancer()
    x, y = torch.tensor(bunch.data, dtype=torch.float32), torch.tensor(bunch.target)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train_idx, test_idx = order[:369], order[369:]
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def standardized_logreg(x: Tensor, y: Tensor, *, classes: int = 2, epochs: int = 60) -> nn.Linear:
    """Logistic regression trained on standardized features, then folded into one Linear on raw features."""
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    torch.manual_seed(0)
    lin = train(nn.Linear(x.shape[1], classes), (x - mean) / std, y, epochs=epochs)
    with torch.no_grad():
        lin.weight /= std
        lin.bias -= lin.weight @ mean
    return lin


def outlier_table(n: int = 400, seed: int = 0) -> tuple[Tensor, Tensor]:
    """10 standard-normal features and one in the thousands (an income), 2 classes from a linear rule."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 11, generator=g)
    x[:, 10] = 5000 + 1000 * x[:, 10]
    score = x[:, :10] @ torch.linspace(-1, 1, 10) + 0.5 * (x[:, 10] - 5000) / 1000
    return x, (score + 0.5 * torch.randn(n, generator=g) > 0).long()


def color_images(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """3 x 32 x 32 images: digits upsampled 4x, each channel at its own contrast and offset (raw in [0, 1])."""
    x, y = digits_xy("train" if seed == 0 else "test")
    x = F.interpolate(x[:n], scale_factor=4, mode="nearest")
    rgb = torch.cat([0.9 * x, 0.2 + 0.5 * x, 0.1 + 0.3 * (1 - x)], dim=1)
    return rgb, y[:n]


MEAN, STD = (0.3, 0.45, 0.31), (0.38, 0.21, 0.12)  # per-channel statistics the BN CNN was trained with


def bn_cnn() -> nn.Module:
    """A BatchNorm CNN trained on per-channel-normalized 3 x 32 x 32 images (handed over in train mode)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, 10))
    x, y = color_images(1077, 0)
    train(net, normalize(x), y, epochs=6)
    return net.train()


def normalize(x: Tensor) -> Tensor:
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def to_numpy_labels(y: Tensor) -> np.ndarray:
    return y.numpy().astype(np.int64)


def linear_worst_case(lin: nn.Linear, x: Tensor, y: Tensor, *, lo: Tensor, hi: Tensor, eps: float) -> Tensor:
    """Which inputs a 2-class linear model keeps right under the optimal L-inf attack of size eps times each
    feature's range, inside the box [lo, hi]: every feature moved by its full budget against the margin
    (the closed form PGD must reach). Ties go to class 0, as argmax does."""
    w, b = lin.weight.detach().double(), lin.bias.detach().double()
    v, c = w[1] - w[0], b[1] - b[0]  # z1 - z0 = v.x + c
    x, lo, hi = x.double(), lo.double(), hi.double()
    toward = torch.where(y == 1, -1.0, 1.0).double()[:, None] * torch.sign(v)[None, :]  # the change that hurts
    adv = torch.minimum(torch.maximum(x + toward * eps * (hi - lo), lo), hi)
    g = adv @ v + c
    return torch.where(y == 1, g > 0, g <= 0)


def brute_force_ece(probs: Tensor, y: Tensor, bins: int = 15) -> float:
    """ECE by a loop over bins ((m - 1) / M, m / M], bin 1 holding 0 too (Guo et al. 2017, eq. 3)."""
    conf, pred = probs.double().max(1)
    total = 0.0
    for m in range(1, bins + 1):
        lo, hi = (m - 1) / bins, m / bins
        inside = [(lo < c <= hi) or (m == 1 and c == 0) for c in conf.tolist()]
        members = [i for i, ok in enumerate(inside) if ok]
        if members:
            acc = sum(int(pred[i] == y[i]) for i in members) / len(members)
            mean_conf = sum(float(conf[i]) for i in members) / len(members)
            total += len(members) / len(y) * abs(acc - mean_conf)
    return total
