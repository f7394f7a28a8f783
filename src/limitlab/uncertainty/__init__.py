"""Model uncertainty: sampled predictive distributions and the scores computed from them.

`mc_dropout(model, x, samples=T)` and `ensemble(models, x)` return probabilities of shape
(samples, N, C); `predictive_entropy`, `expected_entropy`, `mutual_information` and `max_softmax`
turn them (or plain N x C probabilities) into one number per input.
"""
from limitlab.uncertainty.ensemble import ensemble
from limitlab.uncertainty.entropy import expected_entropy, mutual_information, predictive_entropy
from limitlab.uncertainty.max_softmax import max_softmax
from limitlab.uncertainty.mc_dropout import dropout_layers, mc_dropout

__all__ = ["dropout_layers", "ensemble", "expected_entropy", "max_softmax", "mc_dropout",
           "mutual_information", "predictive_entropy"]
