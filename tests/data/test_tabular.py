import numpy as np
import pytest

from limitlab.data.tabular import inject_missing, tabular
from limitlab.errors import ConfigError, DataError


def test_bundled_tables():
    x, y, names = tabular("breast-cancer")
    assert x.shape == (569, 30) and y.shape == (569,) and len(names) == 30 and set(np.unique(y)) == {0, 1}
    x, y, _ = tabular("wine")
    assert x.shape == (178, 13) and set(np.unique(y)) == {0, 1, 2}
    with pytest.raises(ConfigError, match="valid: breast-cancer, wine"):
        tabular("iris")


@pytest.mark.parametrize("mechanism", ["mcar", "mnar"])
def test_exact_count_per_column_and_observed_values_untouched(mechanism):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 7))
    xm = inject_missing(x, rate=0.3, mechanism=mechanism, rng=np.random.default_rng(1))
    assert np.isnan(xm).sum(axis=0).tolist() == [60] * 7
    observed = ~np.isnan(xm)
    assert np.array_equal(xm[observed], x[observed])
    assert not np.isnan(x).any()  # the input is not changed in place


def test_mnar_removes_large_values_more_often_and_mcar_does_not():
    x = np.tile(np.arange(1000.0)[:, None], (1, 20))  # every column: values 0..999 (rank = value + 1)
    top = x >= 500
    mnar = np.isnan(inject_missing(x, rate=0.3, mechanism="mnar", rng=np.random.default_rng(0)))
    mcar = np.isnan(inject_missing(x, rate=0.3, mechanism="mcar", rng=np.random.default_rng(0)))
    # With weights proportional to rank, the top half holds 3/4 of the weight: well over half the misses.
    assert mnar[top].mean() / mnar[~top].mean() > 2.0
    assert 0.85 < mcar[top].mean() / mcar[~top].mean() < 1.15
    assert mnar.mean() == pytest.approx(0.3) and mcar.mean() == pytest.approx(0.3)


def test_inject_missing_rejects_bad_input():
    x = np.ones((10, 2))
    with pytest.raises(ConfigError, match="mechanism 'mar'"):
        inject_missing(x, rate=0.1, mechanism="mar", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="rate=1.0"):
        inject_missing(x, rate=1.0, mechanism="mcar", rng=np.random.default_rng(0))
    x[0, 0] = np.nan
    with pytest.raises(DataError, match="complete"):
        inject_missing(x, rate=0.1, mechanism="mcar", rng=np.random.default_rng(0))
