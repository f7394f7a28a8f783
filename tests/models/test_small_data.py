"""Per-example correctness of the learning-curve classifiers, and their seeding."""
import numpy as np

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.small_data import cnn_hits, logreg_hits


def test_logreg_hits_are_the_per_row_correctness_of_its_score():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    hits = logreg_hits(x[:80], y[:80], x[80:], y[80:], c=1.0)
    assert hits.shape == (40,) and set(np.unique(hits)) <= {0.0, 1.0} and 0.7 < hits.mean() < 1.0


def test_cnn_hits_depend_on_their_own_stream_only():
    data = digits()
    train, test = data.train.subset(slice(0, 30)), data.test.subset(slice(0, 50))
    ctx = Context(seed=0)
    run = lambda names: cnn_hits(train, test, ctx=ctx, names=names, epochs=1, min_steps=3, lr=1e-3)  # noqa: E731
    first = run(("a",))
    run(("b",))  # another arm in between changes nothing for the first
    assert np.array_equal(run(("a",)), first) and first.shape == (50,)


def test_curve_hits_score_every_held_out_digit_and_match_cnn_hits_on_the_test_digits():
    from limitlab.data.subsets import balanced_order, digits_pool
    from limitlab.models.small_data import curve_hits

    (pool, test), ctx = digits_pool(), Context(seed=0)
    orders = np.stack([balanced_order(pool.y.numpy(), np.random.default_rng(k)) for k in range(2)])
    hits, held = curve_hits(orders, (10, 20), small_n=10, num_full=1, ctx=ctx, epochs=1, min_steps=3, lr=1e-3)
    assert hits["cnn"].shape == (2, 2, 360 + 1437) and held.shape == (2, 360 + 1437)
    assert held[:, :360].all() and (~held).sum(1).tolist() == [10, 10]  # a draw holds out all but its first 10
    assert not held[1, 360 + orders[1, :10]].any() and held[1, 360 + orders[1, 10:]].all()
    assert np.isnan(hits["cnn"][1, 1]).all() and np.isnan(hits["pixels"][1]).all()  # not run beyond num_full
    assert not np.isnan(hits["hog"][1, 0]).any()
    # The same CNN (its stream: the draw and the size) scored on the test digits alone gives the first 360 columns.
    again = cnn_hits(pool.subset(np.sort(orders[0, :20])), test, ctx=ctx, names=(0, 20), epochs=1, min_steps=3, lr=1e-3)
    assert np.array_equal(hits["cnn"][0, 1, :360], again)
    # A model scores its own training digits too; they are in the hits, excluded by `held` only.
    assert set(np.unique(hits["hog"][0, 0])) <= {0.0, 1.0}
