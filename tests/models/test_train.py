"""fit: the cache returns the same weights without training; early stop and sample weights act."""
import torch

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.data import ArrayDataset, digits
from limitlab.models import TrainConfig, build, evaluate, fit


def tiny_data(n=200):
    s = digits()
    return s.train.subset(torch.arange(n)), s.val.subset(torch.arange(100))


def test_second_fit_loads_the_cached_weights(tmp_path):
    train, val = tiny_data()
    ctx = Context(cache=ModelCache(tmp_path))
    cfg = TrainConfig(epochs=3)
    torch.manual_seed(0)
    a = build("mlp", hidden=(32,))
    h1 = fit(a, train, val=val, config=cfg, ctx=ctx)
    torch.manual_seed(0)
    b = build("mlp", hidden=(32,))
    h2 = fit(b, train, val=val, config=cfg, ctx=ctx)
    assert not h1.cached and h2.cached and ctx.cache.hits == 1
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
    assert h2.train_loss == h1.train_loss
    # anything that determines the weights changes the key: another seed trains again
    torch.manual_seed(0)
    fit(build("mlp", hidden=(32,)), train, val=val, config=cfg, ctx=Context(seed=1, cache=ctx.cache))
    assert ctx.cache.hits == 1


def test_training_is_reproducible_without_cache():
    train, val = tiny_data()
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        m = build("cnn")
        fit(m, train, val=val, config=TrainConfig(epochs=2), ctx=Context())
        states.append(m.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_target_accuracy_stops_training():
    train, _ = tiny_data(100)
    h = fit(build("mlp", hidden=(256,)), train, config=TrainConfig(epochs=200, lr=1e-2, patience=None,
                                                                  target_train_acc=1.0), ctx=Context())
    assert h.stopped == "target" and h.train_acc[-1] == 1.0 and len(h.train_acc) < 200


def test_zero_sample_weight_means_the_class_is_never_learned():
    train, _ = tiny_data(300)
    weight = (train.y != 3).float()
    m = build("mlp", hidden=(64,))
    fit(m, train, config=TrainConfig(epochs=30, patience=None), ctx=Context(), sample_weight=weight)
    with torch.no_grad():
        pred = m(train.x).argmax(1)
    assert (pred[train.y == 3] == 3).float().mean() < 0.2
    assert (pred[train.y != 3] == train.y[train.y != 3]).float().mean() > 0.9


def test_evaluate_restores_mode():
    m = build("cnn").train()
    evaluate(m, ArrayDataset(torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)))
    assert m.training


def test_fit_leaves_the_global_generator_as_a_cache_hit_would(tmp_path):
    train, val = tiny_data()
    cache = ModelCache(tmp_path)
    draws = []
    for _ in range(2):  # first: trains (dropout draws random masks); second: loads from the cache
        torch.manual_seed(0)
        fit(build("cnn"), train, val=val, config=TrainConfig(epochs=1), ctx=Context(cache=cache))
        draws.append(torch.rand(3))
    assert cache.hits == 1 and torch.equal(draws[0], draws[1])


class Hook:
    """A batch hook object: the cache must name it by its class, not by its memory address."""

    def __call__(self, model, x, y, gen):
        return x, y


def test_a_hook_instance_gives_a_stable_cache_key(tmp_path):
    train, _ = tiny_data(64)
    cache = ModelCache(tmp_path)
    for _ in range(2):
        torch.manual_seed(0)
        fit(build("logreg"), train, config=TrainConfig(epochs=1), ctx=Context(cache=cache), batch_hook=Hook())
    assert cache.hits == 1


def test_eval_train_off_skips_the_training_curves():
    train, val = tiny_data()
    on, off = (fit(build("mlp", hidden=(32,)), train, val=val, ctx=Context(),
                   config=TrainConfig(epochs=3, patience=None, eval_train=flag)) for flag in (True, False))
    assert len(on.train_acc) == len(on.train_loss) == 3 and off.train_acc == off.train_loss == []
    assert len(off.val_loss) == 3 and off.steps == on.steps
    # a training-accuracy target needs the evaluation, so it turns it back on
    h = fit(build("mlp", hidden=(256,)), tiny_data(100)[0], ctx=Context(),
            config=TrainConfig(epochs=200, lr=1e-2, patience=None, target_train_acc=1.0, eval_train=False))
    assert h.stopped == "target" and h.train_acc[-1] == 1.0
