"""Vector scaling: a per-class scale and bias on the logits, softmax(w * z + b), fitted on validation logits.

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599,
sec. 4.2 (matrix scaling with W restricted to a diagonal: 2C parameters where temperature scaling has
one). w and b minimize the validation NLL. Unlike a temperature, a per-class scale and bias can change
which class scores highest, so the accuracy may move (Guo et al.: it usually costs little, and with few
validation inputs per class it over-fits more than temperature scaling does).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from limitlab import _checks
from limitlab.errors import DataError, NotFittedError

_LOGITS = "(N, C) logits (the model's outputs before softmax)"


class VectorScaler:
    """scikit-learn style: `VectorScaler().fit(val_logits, val_y).transform(test_logits)`."""

    def __init__(self, *, max_iter: int = 500) -> None:
        self.max_iter = _checks.integer("max_iter", max_iter)
        self.scale_: Tensor | None = None
        self.bias_: Tensor | None = None

    def fit(self, logits: Tensor, y: Tensor) -> VectorScaler:
        """Minimize the NLL over (w, b) with L-BFGS in float64, from w = 1, b = 0 (the model as it is)."""
        _checks.tensor(logits, "logits", dims=(2,), spec=_LOGITS)
        _checks.labels(y, len(logits), num_classes=logits.shape[1])
        z, y = logits.detach().double(), y.detach()
        w = torch.ones(z.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=self.max_iter, tolerance_grad=1e-10,
                                tolerance_change=1e-12, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(z * w + b, y)
            loss.backward()
            return loss

        opt.step(closure)
        if not all(math.isfinite(v) for v in torch.cat([w, b]).tolist()):
            raise DataError(f"vector scaling diverged on {len(z)} validation inputs; expected finite scales and "
                            "biases: pass validation logits with some errors and every class present")
        self.scale_, self.bias_ = w.detach(), b.detach()
        return self

    def transform(self, logits: Tensor) -> Tensor:
        """The scaled logits w * z + b (float64)."""
        if self.scale_ is None or self.bias_ is None:
            raise NotFittedError("this VectorScaler is not fitted yet; call fit(val_logits, val_y) first")
        _checks.tensor(logits, "logits", dims=(2,), spec=_LOGITS)
        if logits.shape[1] != len(self.scale_):
            raise DataError(f"logits have {logits.shape[1]} classes; expected {len(self.scale_)}, as in the "
                            "logits this scaler was fitted on")
        return logits.double() * self.scale_ + self.bias_

    def predict_proba(self, logits: Tensor) -> Tensor:
        return torch.softmax(self.transform(logits), dim=1)
