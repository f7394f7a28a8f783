"""Learning-curve subsets: balanced nested orders, the digits pool, HOG features of the pool's rows."""
import numpy as np

from limitlab.data.features import hog_features
from limitlab.data.subsets import balanced_order, digits_pool, pool_hog


def test_balanced_order_prefixes_are_balanced_permutations():
    y = np.repeat(np.arange(10), [30, 25, 40, 33, 28, 31, 29, 35, 27, 26])
    order = balanced_order(y, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(y)))
    for n in (10, 20, 50, 250):
        assert np.bincount(y[order[:n]], minlength=10).tolist() == [n // 10] * 10
    again = balanced_order(y, np.random.default_rng(0))
    other = balanced_order(y, np.random.default_rng(1))
    assert np.array_equal(order, again) and not np.array_equal(order, other)


def test_pool_and_its_hog_features():
    pool, test = digits_pool()
    assert len(pool) == 1437 and len(test) == 360  # train + validation digits, and the test set
    feats = pool_hog((3, 0))
    assert feats.shape[0] == 2 + len(test)
    np.testing.assert_allclose(feats[0], hog_features(pool.x[3:4].numpy())[0])  # rows in the order asked
