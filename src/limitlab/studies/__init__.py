"""The studies: one file each, registered with its catalog metadata (`shared/STUDIES.md`).

Importing this package registers them, in catalog order; a new study adds its module here.
"""
from limitlab.studies import (  # noqa: F401  (each import registers one study)
    backprop, approximation, depth, neural_ode,  # representation
    memorization, data_hunger, invariance, bias,  # generalization
    adversarial, eot,  # robustness
    uncertainty, calibration,  # uncertainty
    extrapolation, sorting, syntax,  # reasoning
    interpretability, automl, scale,
)
