"""Tabular models: the missing-data strategies by name, and a planted table where missingness is the signal."""
import numpy as np
import pytest

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.models.tabular import STRATEGIES, missing_strategy_accuracy


def test_missing_indicators_recover_a_label_carried_by_missingness():
    # Planted: the label is exactly "feature 0 is missing"; its observed values are noise. Zero-fill cannot tell a
    # missing value from a zero; the indicators can, and the tree routes NaNs to their own branch.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = np.stack([np.where(y == 1, np.nan, rng.normal(0, 1, 200)), rng.normal(0, 1, 200)], 1)
    x[y == 0, 0] = np.where(rng.random(int((y == 0).sum())) < 0.5, 0.0, x[y == 0, 0])  # many observed zeros
    tr, te = np.arange(150), np.arange(150, 200)
    ctx = Context()
    scores = {s: missing_strategy_accuracy(s, x, y, tr, te, ctx=ctx, names=(s,), epochs=200) for s in STRATEGIES}
    assert scores["mlp-mean+indicators"] == 1.0 and scores["tree-native-nan"] == 1.0
    assert scores["mlp-zero-fill"] < 0.9


def test_unknown_strategy_is_one_clear_error():
    with pytest.raises(ConfigError, match="unknown missing-data strategy 'median'; valid: mlp-zero-fill"):
        missing_strategy_accuracy("median", np.zeros((4, 1)), np.zeros(4, dtype=int), np.arange(2), np.arange(2, 4),
                                  ctx=Context(), names=(), epochs=1)
