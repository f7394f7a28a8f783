"""Temperature scaling: one scalar T > 0 fitted on validation logits, softmax(z / T).

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599.
T minimizes the validation NLL; it rescales every logit by the same factor, so the argmax and hence
the accuracy are unchanged. T > 1 means the model was over-confident, T < 1 under-confident.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from limitlab import _checks
from limitlab.errors import DataError, NotFittedError

_LOGITS = "(N, C) logits (the model's outputs before softmax)"


class TemperatureScaler:
    """scikit-learn style: `TemperatureScaler().fit(val_logits, val_y).transform(test_logits)`."""

    def __init__(self, *, max_iter: int = 200) -> None:
        self.max_iter = _checks.integer("max_iter", max_iter)
        self.temperature_: float | None = None
        self.num_classes_: int | None = None

    def fit(self, logits: Tensor, y: Tensor) -> TemperatureScaler:
        """Minimize NLL over log T (so T stays positive) with L-BFGS, in float64."""
        _checks.tensor(logits, "logits", dims=(2,), spec=_LOGITS)
        _checks.labels(y, len(logits), num_classes=logits.shape[1])
        z, y = logits.detach().double(), y.detach()
        log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(z / log_t.exp(), y)
            loss.backward()
            return loss

        opt.step(closure)
        temperature = float(log_t.detach().exp())
        if not (math.isfinite(temperature) and temperature > 0):
            raise DataError(f"the fitted temperature is {temperature} on {len(z)} validation inputs; expected a finite "
                            "T > 0: pass validation logits with some errors or unequal confidences")
        self.temperature_, self.num_classes_ = temperature, logits.shape[1]
        return self

    @property
    def temperature(self) -> float:
        """The fitted T (`temperature_` once fitted, as a float)."""
        if self.temperature_ is None:
            raise NotFittedError("this TemperatureScaler is not fitted yet; call fit(val_logits, val_y) first")
        return self.temperature_

    def transform(self, logits: Tensor) -> Tensor:
        """The scaled logits z / T."""
        if self.temperature_ is None:
            raise NotFittedError("this TemperatureScaler is not fitted yet; call fit(val_logits, val_y) first")
        _checks.tensor(logits, "logits", dims=(2,), spec=_LOGITS)
        if logits.shape[1] != self.num_classes_:
            raise DataError(f"logits have {logits.shape[1]} classes; expected {self.num_classes_}, as in the "
                            "logits this scaler was fitted on")
        return logits / self.temperature_

    def predict_proba(self, logits: Tensor) -> Tensor:
        return torch.softmax(self.transform(logits), dim=1)
