"""The studies: one file each, registered with its catalog metadata (`shared/STUDIES.md`).

Importing this package registers them, in catalog order; a new study adds its module here.
"""
# The import order is the catalog order: not to be sorted.
# isort: off
from limitlab.studies import (  # noqa: F401  (each import registers one study)
    backprop, approximation, depth, neural_ode,  # representation
    memorization, data_hunger, invariance, bias,  # generalization
    adversarial, eot,  # robustness
    uncertainty, calibration,  # uncertainty
    extrapolation, sorting, syntax,  # reasoning
    interpretability, automl, scale,
)
# isort: on


def _callable_package() -> None:
    """`limitlab.studies()` lists the studies (the package is also where they live)."""
    import sys
    import types

    class _Studies(types.ModuleType):
        def __call__(self):
            from limitlab.api import studies

            return studies()

    sys.modules[__name__].__class__ = _Studies


_callable_package()
