"""Zero-fill and mean imputation with missing indicators, by hand."""
import numpy as np

from limitlab.data.impute import mean_with_indicators, zero_fill


def test_imputation_by_hand():
    x = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])
    np.testing.assert_array_equal(zero_fill(x), [[1, 0], [3, 4], [0, 8]])
    # the means come from the training rows only (rows 0 and 1 here): column 0 -> 2, column 1 -> 4
    np.testing.assert_array_equal(mean_with_indicators(x, np.array([0, 1])),
                                  [[1, 4, 0, 1], [3, 4, 0, 0], [2, 8, 1, 0]])
