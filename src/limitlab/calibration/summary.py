"""Every calibration score of one predictor at once, and the same before and after temperature scaling.

Guo, Pleiss, Sun, Weinberger. On calibration of modern neural networks. ICML 2017, arXiv:1706.04599:
accuracy, ECE and MCE (equal-width bins on the top label), NLL and the Brier score on the test set;
the temperature is fitted on a separate validation split (its NLL), then applied to the test logits.
"""
from __future__ import annotations

import torch
from torch import Tensor

from limitlab.calibration.ece import ece, mce
from limitlab.calibration.noise_floor import ece_noise_floor
from limitlab.calibration.scores import accuracy, brier, nll
from limitlab.calibration.temperature import TemperatureScaler


def calibration_scores(probs: Tensor, y: Tensor, *, bins: int = 15) -> dict[str, float]:
    """{"acc", "ece", "mce", "nll", "brier"} of probabilities `probs` (N, C) for labels `y`."""
    return {"acc": accuracy(probs, y), "ece": ece(probs, y, bins=bins), "mce": mce(probs, y, bins=bins),
            "nll": nll(probs, y), "brier": brier(probs, y)}


def before_after_temperature(val_logits: Tensor, val_y: Tensor, test_logits: Tensor, test_y: Tensor, *,
                             bins: int = 15) -> dict[str, float]:
    """Test scores from softmax(logits) and, suffixed "_ts", from softmax(logits / T) with T fitted on the
    validation split; "temperature" is T (> 1: the model was over-confident). In float64."""
    scaler = TemperatureScaler().fit(val_logits, val_y)
    before = calibration_scores(torch.softmax(test_logits.double(), 1), test_y, bins=bins)
    after = calibration_scores(scaler.predict_proba(test_logits.double()), test_y, bins=bins)
    return {"temperature": scaler.temperature, **before, **{f"{k}_ts": v for k, v in after.items()}}


def scaling_with_noise(val_logits: Tensor, val_y: Tensor, test_logits: Tensor, test_y: Tensor, *, bins: int = 15,
                       num_floor: int = 500, generator: torch.Generator | None = None) -> dict[str, float]:
    """`before_after_temperature` plus the noise floors its numbers are judged against: "ece_floor" and
    "ece_ts_floor" (the mean ECE of a calibrated predictor with the same confidences, on these points),
    "ece_ts_floor95" (its 95th percentile), "nll_gain" (test NLL lowered by scaling) and "nll_gain_noise"
    (two standard errors of the per-input NLL difference)."""
    out = before_after_temperature(val_logits, val_y, test_logits, test_y, bins=bins)
    z = test_logits.double()
    probs = {"": torch.softmax(z, 1), "_ts": torch.softmax(z / out["temperature"], 1)}
    floors = {k: ece_noise_floor(p, bins=bins, num=num_floor, generator=generator) for k, p in probs.items()}
    nll = {k: -p.gather(1, test_y[:, None])[:, 0].clamp_min(1e-12).log() for k, p in probs.items()}
    diff = nll[""] - nll["_ts"]
    return out | {"ece_floor": float(floors[""].mean()), "ece_ts_floor": float(floors["_ts"].mean()),
                  "ece_ts_floor95": float(floors["_ts"].quantile(0.95)), "nll_gain": float(diff.mean()),
                  "nll_gain_noise": float(2 * diff.std() / len(diff) ** 0.5)}
