"""EOT-PGD: identity + one sample is PGD exactly; the gradient is the mean over transformations."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from limitlab.attacks import eot_pgd, pgd
from limitlab.attacks.eot_pgd import eot_gradient
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import ConfigError


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10))


def data():
    g = torch.Generator().manual_seed(1)
    return torch.rand(6, 1, 8, 8, generator=g), torch.randint(0, 10, (6,), generator=g)


@pytest.mark.parametrize("norm,random_start,targeted", [("inf", False, False), ("inf", True, True), ("2", True, False)])
def test_identity_one_sample_equals_pgd(norm, random_start, targeted):
    model, (x, y) = small_cnn(), data()
    kw = dict(eps=0.1, step_size=0.03, steps=7, norm=norm, random_start=random_start, targeted=targeted)
    a = pgd(model, x, y, generator=torch.Generator().manual_seed(5), **kw)
    b = eot_pgd(model, x, y, transform=TransformDistribution(), samples=1,
                generator=torch.Generator().manual_seed(5), **kw)
    assert torch.equal(a, b)


def test_gradient_is_the_mean_over_sampled_transformations():
    model, (x, y) = small_cnn(), data()
    dist = TransformDistribution(max_shift=1.0, max_rotation=20.0, noise_std=0.05)
    got = eot_gradient(model, x, y, transform=dist, samples=4,
                       generator=torch.Generator().manual_seed(2))
    # Second route: draw the same 4 x N transformations and average 4 separate input gradients.
    t = dist.sample(4 * len(x), shape=(1, 8, 8), generator=torch.Generator().manual_seed(2))
    total = torch.zeros_like(x)
    xs = x.clone().requires_grad_(True)
    views = t(xs.repeat(4, 1, 1, 1))
    for s in range(4):
        loss = F.cross_entropy(model(views[s * 6:(s + 1) * 6]), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xs, retain_graph=True)
        total += g / 4
    torch.testing.assert_close(got, total)


def test_eot_stays_in_the_ball_and_restores_the_model():
    model, (x, y) = small_cnn(), data()
    model.train()
    out = eot_pgd(model, x, y, transform=TransformDistribution(max_rotation=10.0), samples=3, eps=0.05,
                  step_size=0.02, steps=4, generator=torch.Generator().manual_seed(0))
    assert float((out - x).abs().max()) <= 0.05 + 1e-6 and out.min() >= 0 and out.max() <= 1
    assert model.training and all(p.requires_grad for p in model.parameters())
    with pytest.raises(ConfigError, match="sampler"):
        eot_pgd(model, x, y, transform=lambda t: t, samples=1, eps=0.1, step_size=0.1, steps=1)
    with pytest.raises(ConfigError, match="samples"):
        eot_pgd(model, x, y, transform=TransformDistribution(), samples=0, eps=0.1, step_size=0.1, steps=1)


def test_eot_pgd_works_inside_a_callers_no_grad_block():
    """It raised a raw RuntimeError there before the loop was shared with pgd (issue 13)."""
    model, (x, y) = small_cnn(), data()
    kw = dict(transform=TransformDistribution(max_rotation=10.0), samples=2, eps=0.1, step_size=0.03, steps=3)
    want = eot_pgd(model, x, y, generator=torch.Generator().manual_seed(1), **kw)
    with torch.no_grad():
        got = eot_pgd(model, x, y, generator=torch.Generator().manual_seed(1), **kw)
    assert torch.equal(got, want) and float((got - x).abs().max()) > 0
