"""Cascading randomization: order, semantics, the user's model untouched; rank correlation vs SciPy."""
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from limitlab.attribution import cascading_randomization, grad_cam, rank_correlation
from limitlab.attribution.randomization import parametrized_layers
from limitlab.errors import IncompatibleModelError
from limitlab.models import build


def trained_like_cnn():
    torch.manual_seed(0)
    return build("cnn").eval()


def test_default_order_is_top_down():
    assert parametrized_layers(trained_like_cnn()) == ["classifier.5", "classifier.2", "features.2", "features.0"]


def test_cascade_randomizes_the_first_k_layers_and_leaves_the_model_alone():
    model = trained_like_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    names = parametrized_layers(model)

    def changed(m, x):  # a "map" that records which layers differ from the original weights
        flags = [float(not torch.equal(m.get_submodule(n).weight, model.get_submodule(n).weight)) for n in names]
        return torch.tensor(flags).expand(len(x), -1)

    x = torch.rand(2, 1, 8, 8)
    rng_state = torch.get_rng_state()
    result = cascading_randomization(model, x, changed, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert result.layers == names
    for k, flags in enumerate(result.maps):
        assert flags[0].tolist() == [1.0] * k + [0.0] * (len(names) - k)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_reproducible_with_a_generator():
    model = trained_like_cnn()
    x = torch.rand(3, 1, 8, 8)
    t = model(x).argmax(1)

    def explain(m, xx):
        return grad_cam(m, xx, layer="features", target=t)

    a = cascading_randomization(model, x, explain, generator=torch.Generator().manual_seed(5))
    b = cascading_randomization(model, x, explain, generator=torch.Generator().manual_seed(5))
    c = cascading_randomization(model, x, explain, generator=torch.Generator().manual_seed(6))
    assert all(torch.equal(p, q) for p, q in zip(a.maps, b.maps))
    assert not torch.equal(a.maps[-1], c.maps[-1])
    corr = a.correlations()
    assert corr.shape == (5, 3) and torch.allclose(corr[0], torch.ones(3))


def test_unknown_layer():
    with pytest.raises(IncompatibleModelError, match="'features.1'.*classifier.5"):
        cascading_randomization(trained_like_cnn(), torch.rand(1, 1, 8, 8), lambda m, x: x, layers=["features.1"])


def test_rank_correlation_matches_scipy_with_ties():
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(0, 4, (6, 2, 5), generator=gen).float() - 1.5  # many ties, both signs
    b = a + torch.randn(6, 2, 5, generator=gen)
    for absolute in (False, True):
        ours = rank_correlation(a, b, absolute=absolute)
        f = np.abs if absolute else (lambda v: v)
        ref = [spearmanr(f(a[n].flatten().numpy()), f(b[n].flatten().numpy())).statistic for n in range(6)]
        assert np.allclose(ours.numpy(), ref, atol=1e-6)
    assert torch.allclose(rank_correlation(a, -a), -torch.ones(6))


def test_rank_correlation_of_a_constant_map_is_nan():
    out = rank_correlation(torch.zeros(2, 9), torch.rand(2, 9))
    assert torch.isnan(out).all()


def reference_cascade(model, x, explain, names, generator):
    """Frozen copy of the cascade before the shared generator rule: one seed per layer from `generator`,
    the layer reset under a forked global generator seeded with it (or the global stream for None)."""
    import copy
    copied = copy.deepcopy(model)
    modules = dict(copied.named_modules())
    maps = [explain(copied, x).detach()]
    for name in names:
        seed = int(torch.randint(2**62, (1,), generator=generator)) if generator is not None else None
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            with torch.no_grad():
                modules[name].reset_parameters()
        maps.append(explain(copied, x).detach())
    return maps


@pytest.mark.parametrize("seeded", [True, False])
def test_cascade_is_bit_identical_to_before(seeded):
    model = trained_like_cnn()
    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    explain = lambda m, xx: m(xx)  # noqa: E731  (the logits change with every randomized layer)
    names = parametrized_layers(model)
    gen = (lambda: torch.Generator().manual_seed(9)) if seeded else (lambda: None)
    torch.manual_seed(4)
    got = cascading_randomization(model, x, explain, generator=gen())
    torch.manual_seed(4)
    want = reference_cascade(model, x, explain, names, gen())
    assert all(torch.equal(a, b) for a, b in zip(got.maps, want, strict=True))
    assert not torch.equal(got.maps[0], got.maps[-1])
