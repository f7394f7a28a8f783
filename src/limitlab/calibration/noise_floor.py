"""Noise floors of calibration measures on a finite test set.

ECE on n points is biased upwards: even a perfectly calibrated predictor scores above 0, because each
bin's accuracy is estimated from few labels (Kumar, Liang, Ma. Verified uncertainty calibration. NeurIPS
2019, arXiv:1909.10155; Roelofs et al. Mitigating bias in calibration error estimation. AISTATS 2022,
arXiv:2012.08668). `ece_noise_floor` draws what a calibrated predictor with the same confidences would
score: labels resampled from the predicted probabilities, so the top label is right with probability equal
to its confidence (ECE's 15 equal-width bins as in Guo et al. 2017). `temperature_bootstrap` refits the
temperature of Guo et al. on resampled validation sets (Efron's bootstrap): its sampling spread.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from limitlab import _checks
from limitlab.calibration.temperature import TemperatureScaler
from limitlab.errors import ConfigError, DataError


def ece_noise_floor(probs: Tensor, *, bins: int = 15, num: int = 500,
                    generator: torch.Generator | None = None) -> Tensor:
    """`num` ECE values (float64) of a perfectly calibrated predictor with the top-label confidences of
    `probs` (N, C) on these N points (or given directly as top-label confidences, shape (N,))."""
    _checks.integer("bins", bins)
    _checks.integer("num", num)
    if isinstance(probs, Tensor) and probs.dim() == 1:
        conf = _checks.tensor(probs, "confidence", dims=(1,), spec="(N,) top-label confidences").double()
        if bool((conf < 0).any() or (conf > 1).any()):
            raise DataError("confidence has values outside [0, 1]; expected top-label probabilities")
    else:
        conf = _checks.probs(probs, dims=(2,)).double().max(1).values
    index = torch.bucketize(conf, torch.linspace(0, 1, bins + 1, dtype=torch.float64)[1:-1], right=False)
    right = (torch.rand(num, len(conf), generator=generator, dtype=torch.float64) < conf).double()
    gap = torch.zeros(num, bins, dtype=torch.float64).index_add_(1, index, right - conf)  # per bin: sum(acc - conf)
    return gap.abs().sum(1) / len(conf)


def temperature_bootstrap(logits: Sequence[Tensor], y: Tensor, *, num: int = 50,
                          generator: torch.Generator | None = None) -> Tensor:
    """(num, len(logits)): the temperature refitted on `num` resamples (with replacement) of the validation
    set, the same resample for every logit set (so differences between them are paired)."""
    _checks.integer("num", num, low=2)
    if not logits:
        raise ConfigError("logits is an empty list; expected at least one (N, C) set of logits")
    out = torch.empty(num, len(logits), dtype=torch.float64)
    for i in range(num):
        idx = torch.randint(len(y), (len(y),), generator=generator)
        for j, z in enumerate(logits):
            out[i, j] = TemperatureScaler().fit(z[idx], y[idx]).temperature
    return out
