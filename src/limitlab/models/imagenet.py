"""The ImageNet networks the cost study counts, written from their published layer tables (no weights).

Simonyan, Zisserman. Very deep convolutional networks for large-scale image recognition. ICLR 2015,
arXiv:1409.1556 (VGG16 = configuration D, table 1: 138,357,544 parameters). Krizhevsky, Sutskever,
Hinton. ImageNet classification with deep convolutional neural networks. NeurIPS 2012 (figure 2: two
GPU towers, so conv2, conv4 and conv5 see half the channels; "60 million parameters and 650,000
neurons"); torchvision's single-tower AlexNet (Krizhevsky 2014, "One weird trick", 61,100,840
parameters). Build them under `torch.device("meta")` to count without allocating memory.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

PUBLISHED_PARAMS = {"vgg16": 138_357_544, "alexnet": 61_100_840}


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


# name -> (builder, input shape of one image)
ARCHITECTURES: dict[str, tuple[Callable[..., nn.Module], tuple[int, int, int]]] = {
    "vgg16": (vgg16, (3, 224, 224)), "alexnet": (alexnet, (3, 224, 224)), "alexnet-2012": (alexnet_2012, (3, 227, 227))}
