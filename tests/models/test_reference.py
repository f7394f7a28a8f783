"""The reference digits CNN is one model: the same weights (from the cache) wherever it is asked for."""
import torch

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.models.reference import digits_cnn


def test_every_caller_gets_the_same_cached_model_and_replicas_differ(tmp_path):
    ctx = Context(seed=3, cache=ModelCache(tmp_path))
    torch.manual_seed(123)  # the global stream must not matter: the init is seeded from ctx only
    a = digits_cnn(ctx, epochs=1)
    torch.manual_seed(456)
    b = digits_cnn(Context(seed=3, cache=ctx.cache), epochs=1)
    assert ctx.cache.misses == 1 and not b.training
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    c = digits_cnn(ctx, epochs=1, replica=1)
    assert ctx.cache.misses == 2
    assert not torch.equal(a.state_dict()["classifier.2.weight"], c.state_dict()["classifier.2.weight"])
