"""The ECE a perfectly calibrated model would show on these inputs: the noise floor of an ECE.

Broecker, Smith. Increasing the reliability of reliability diagrams. Weather and Forecasting 22(3),
2007 (consistency resampling); Vaicenavicius et al. Evaluating model calibration in classification.
AISTATS 2019. ECE on n inputs is biased upward: even a calibrated model's accuracy in a bin deviates
from its confidence by chance. Drawing each input's correctness from Bernoulli(its confidence), i.e.
labels from a calibrated model with the same confidences, and measuring the ECE of that draw gives
the floor; its mean over `draws` is the noise a measured ECE must exceed to say anything.
"""
from __future__ import annotations

import numpy as np
from torch import Tensor

from limitlab.errors import ConfigError
from limitlab.stats import weighted


def ece_noise_floor(confidence: Tensor | np.ndarray, *, bins: int = 15, draws: int = 200,
                    rng: np.random.Generator) -> float:
    """Mean ECE over `draws` calibrated label draws for these top-label confidences."""
    if draws < 1:
        raise ConfigError(f"draws={draws}; expected >= 1")
    conf = confidence.detach().cpu().double().numpy() if isinstance(confidence, Tensor) else np.asarray(confidence)
    conf = conf.astype(np.float64)
    hits = (rng.random((draws, len(conf))) < conf).astype(np.float64)  # a calibrated model's right answers
    hot = weighted.confidence_bins(conf, bins=bins)
    gap = hits @ hot - (conf @ hot)[None, :]  # per draw and bin: hits minus summed confidence
    return float(np.abs(gap).sum(axis=1).mean() / len(conf))
