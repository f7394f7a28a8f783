"""limitlab's exceptions: one line each, naming what was given, what was expected, and the fix.

Every error a user can cause is a `LimitlabError`, and also a subclass of the builtin a caller would
catch (`ValueError`, `KeyError`, `OSError`), so `except ValueError` keeps working around limitlab.
The CLI prints `error: <message>` and exits 2; `--debug` shows the traceback.
"""
from __future__ import annotations


class LimitlabError(Exception):
    """Base class of every error limitlab raises on purpose."""


class ConfigError(LimitlabError, ValueError):
    """An unknown key, a value of the wrong type or out of range, an unknown study or preset."""


class DataError(LimitlabError, ValueError):
    """Data that is unreadable, malformed, or fails validation (shape, dtype, NaN, labels, bounds)."""


class IncompatibleModelError(LimitlabError, ValueError):
    """A model that a probe cannot measure (e.g. MC dropout on a model with no dropout layer)."""


class OutputError(LimitlabError, OSError):
    """An output folder or file that cannot be written."""


class NotFittedError(LimitlabError, ValueError):
    """A fitted estimator (e.g. `TemperatureScaler`) used before `fit`."""


class DataTypeError(DataError, TypeError):
    """Data of the wrong type: a numpy array or a list where a probe expects a `torch.Tensor`."""


class ConfigTypeError(ConfigError, TypeError):
    """An option of the wrong type: a string where a number is expected, a float for a count."""
