"""Curve summaries worked out by hand."""
import numpy as np
import pytest

from limitlab.errors import ConfigError
from limitlab.stats import curves

GRID = [0.0, 0.1, 0.2, 0.3]


def test_halving_eps_interpolates_the_first_crossing():
    acc = [[0.9, 0.5, 0.19, 0.0],   # half = 0.45, crossed between 0.1 and 0.2: 0.1 + 0.1 * 0.05 / 0.31
           [0.9, 0.8, 0.7, 0.6],    # never halved
           [1.0, 0.4, 0.6, 0.0]]    # crossed before the grid's first point > 0: 0.1 * 0.5 / 0.6
    got = curves.halving_eps(GRID, acc)
    assert got[0] == pytest.approx(0.1 + 0.1 * 0.05 / 0.31)
    assert np.isnan(got[1])
    assert got[2] == pytest.approx(0.1 * 0.5 / 0.6)


def test_first_halving_index_and_area_and_points():
    assert curves.first_halving_index(GRID, [0.9, 0.5, 0.19, 0.0]) == 2
    assert curves.first_halving_index(GRID, [0.9, 0.8, 0.7, 0.6]) is None
    assert curves.area(GRID, [[1, 1, 1, 1], [1, 0, 0, 0]]) == pytest.approx([1.0, 0.05 / 0.3])
    assert curves.area(GRID, [[1, 0, 0, 0]], upto=0.15) == pytest.approx([0.05 / 0.15])
    assert curves.at(GRID, [[0.9, 0.5, 0.19, 0.0]], [0.1, 0.3]).tolist() == [[0.5, 0.0]]


def test_bad_grids_are_one_line():
    with pytest.raises(ConfigError, match="increasing grid starting at 0"):
        curves.halving_eps([0.1, 0.2], [[1, 0]])
    with pytest.raises(ConfigError, match="not on the grid"):
        curves.at(GRID, [[1, 1, 1, 1]], [0.05])
