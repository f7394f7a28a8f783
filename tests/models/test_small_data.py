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
