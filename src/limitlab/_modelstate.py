"""Leave the model as we found it: every probe measures through `frozen(model)`.

Inside the block the model is in eval mode and its parameters do not require gradients (so a
backward pass computes input gradients only, at the cost of a bare forward+backward). On exit,
even by an exception, each module's train/eval flag and each parameter's `requires_grad` are restored.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def frozen(model: nn.Module, *, train: bool = False) -> Iterator[nn.Module]:
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.train(train)
        for p, _ in flags:
            p.requires_grad_(False)
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)
