"""Wilson intervals against scipy; Newcombe's interval against the values published in Newcombe (1998), Table II."""
import numpy as np
import pytest
from scipy.stats import binomtest

from limitlab.errors import ConfigError, DataError
from limitlab.stats.difference import newcombe, wilson


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (37, 360), (355, 360)])
def test_wilson_is_scipys(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilson")
    assert np.array(wilson(k, n, level=0.9)) == pytest.approx([ci.low, ci.high], abs=1e-12)


@pytest.mark.parametrize("counts, published", [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
])
def test_newcombe_method_10_reproduces_the_papers_table(counts, published):
    delta, lo, hi = newcombe(*counts)
    assert delta == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (float(lo), float(hi)) == pytest.approx(published, abs=6e-5)


def test_arrays_give_one_interval_per_entry_and_wider_at_a_higher_level():
    d, lo, hi = newcombe([56, 9], [70, 10], [48, 3], [80, 10])
    assert d.shape == lo.shape == (2,) and float(lo[0]) == pytest.approx(0.0524, abs=6e-5)
    _, lo99, hi99 = newcombe(56, 70, 48, 80, level=0.99)
    assert lo99 < lo[0] and hi99 > hi[0]


def test_bad_counts_are_one_line():
    with pytest.raises(DataError, match="0 <= k <= n"):
        newcombe(11, 10, 1, 10)
    with pytest.raises(ConfigError, match="level"):
        wilson(1, 10, level=1.0)
