"""The studies: one file each, registered by catalog id. A new study adds one import line here."""
from limitlab.studies import adversarial, calibration  # noqa: F401
from limitlab.studies import approximation, backprop, depth, neural_ode  # noqa: F401  (issue 5: representation chapter)
from limitlab.studies import interpretability  # noqa: F401  (issue 7)
from limitlab.studies import bias, data_hunger, invariance, memorization  # noqa: F401  (issue 4: generalization)
from limitlab.studies import eot, uncertainty  # noqa: F401  (issue 3)
from limitlab.studies import automl, scale  # noqa: F401  (cost and automl chapters)
from limitlab.studies import extrapolation, sorting, syntax  # noqa: F401  (issue 6: reasoning chapter)
