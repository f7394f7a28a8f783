"""Integrated gradients: a closed-form path integral, completeness within the quadrature error, Captum."""
import pytest
import torch
from torch import nn

from limitlab.attribution import integrated_gradients
from limitlab.errors import ConfigError, DataError


class SinModel(nn.Module):
    """logit_c = sum_i W_ci sin(x_i): IG_i = W_ci (sin x_i - sin x'_i) exactly."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return torch.sin(x.flatten(1)) @ self.w.T


def sin_case():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    x = torch.rand(4, 5, generator=gen, dtype=torch.float64) * 3
    base = torch.rand(1, 5, generator=gen, dtype=torch.float64) - 0.5
    return SinModel(w), w, x, base


@pytest.mark.parametrize("method,bound,gaps", [("midpoint", 24, 0), ("trapezoid", 12, 1)])
def test_closed_form_within_the_quadrature_error_bound(method, bound, gaps):
    # IG_i = d_i W_ci * integral_0^1 cos(x'_i + a d_i) da, with d = x - x'. With n intervals (m midpoints,
    # or m - 1 gaps between m trapezoid points), the error on that integral is at most
    # max|f''| / (24 n^2) (midpoint) or / (12 n^2) (trapezoid), and |f''| <= d_i^2.
    model, w, x, base = sin_case()
    d = x - base
    exact = w[1] * (torch.sin(x) - torch.sin(base))
    for steps in (8, 32):
        ig = integrated_gradients(model, x, target=1, baseline=base, steps=steps, method=method)
        err = (ig - exact).abs()
        limit = w[1].abs() * d.abs() ** 3 / (bound * (steps - gaps) ** 2)
        assert (err <= limit + 1e-12).all()
        assert err.max() > limit.max() / 50  # the bound is of the right size: the error is not zero


def test_convergence_orders():
    model, w, x, base = sin_case()
    exact = w[1] * (torch.sin(x) - torch.sin(base))
    err = {(m, s): (integrated_gradients(model, x, target=1, baseline=base, steps=s, method=m) - exact).abs().sum()
           for m in ("right", "left", "midpoint") for s in (32, 64)}
    assert 1.8 < err[("right", 32)] / err[("right", 64)] < 2.2       # O(1/m)
    assert 1.8 < err[("left", 32)] / err[("left", 64)] < 2.2
    assert 3.6 < err[("midpoint", 32)] / err[("midpoint", 64)] < 4.4  # O(1/m^2)


def test_completeness_within_the_riemann_error_on_a_network():
    # On F(a) = logit(x' + a (x - x')), sum_i IG_i is the midpoint rule for integral_0^1 F'(a) da =
    # F(1) - F(0); its error is at most max|F'''| / (24 m^2), with F''' estimated by finite differences.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(),
                          nn.Linear(12, 4)).double()
    x = torch.rand(5, 1, 4, 4, dtype=torch.float64) * 2
    target = torch.tensor([0, 1, 2, 3, 0])
    a = torch.linspace(-0.05, 1.05, 2201, dtype=torch.float64)
    h = float(a[1] - a[0])
    with torch.no_grad():
        f = model((a.view(-1, 1, 1, 1, 1) * x).flatten(0, 1)).view(len(a), 5, 4).gather(
            2, target.view(1, 5, 1).expand(len(a), 5, 1))[..., 0]
    f3max = ((f[4:] - 2 * f[3:-1] + 2 * f[1:-3] - f[:-4]) / (2 * h**3)).abs().max(0).values
    with torch.no_grad():
        change = (model(x) - model(torch.zeros_like(x))).gather(1, target.view(-1, 1))[:, 0]
    for steps in (4, 16, 64):
        total = integrated_gradients(model, x, target=target, steps=steps).flatten(1).sum(1)
        gap = (total - change).abs()
        assert (gap <= 1.1 * f3max / (24 * steps**2) + 1e-12).all()
    assert gap.max() < 1e-3


def test_chunking_does_not_change_the_result():
    model, w, x, base = sin_case()
    whole = integrated_gradients(model, x, baseline=base, steps=10)
    assert torch.allclose(integrated_gradients(model, x, baseline=base, steps=10, internal_batch_size=9), whole)


def test_bad_arguments():
    model, w, x, base = sin_case()
    with pytest.raises(ConfigError, match="method='simpson'"):
        integrated_gradients(model, x, method="simpson")
    with pytest.raises(ConfigError, match="steps=1; expected an integer >= 2"):
        integrated_gradients(model, x, method="trapezoid", steps=1)
    with pytest.raises(DataError, match="baseline has shape \\(3,\\)"):
        integrated_gradients(model, x, baseline=torch.zeros(3, dtype=torch.float64))


@pytest.mark.parametrize("ours,theirs", [("midpoint", "riemann_middle"), ("right", "riemann_right"),
                                          ("left", "riemann_left")])
def test_matches_captum(ours, theirs):
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(4)
    from limitlab.models import build
    model = build("cnn").eval().double()
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64)
    t = torch.tensor([1, 2, 3, 4])
    reference = captum_attr.IntegratedGradients(model).attribute(x, baselines=0.0, target=t, n_steps=12,
                                                                 method=theirs)
    assert torch.allclose(integrated_gradients(model, x, target=t, steps=12, method=ours), reference, atol=1e-10)


def test_captum_trapezoid_is_scaled_by_n_minus_1_over_n():
    # Where we differ from Captum 0.9: its "riemann_trapezoid" puts n points 1/(n-1) apart but weighs
    # them 1/n (halved at the ends), so its weights sum to (n-1)/n, not 1: every attribution is shrunk
    # by (n-1)/n and completeness fails by a relative 1/n. Ours (weights 1/(n-1)) is that times n/(n-1).
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(4)
    from limitlab.models import build
    model = build("cnn").eval().double()
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64)
    t = torch.tensor([1, 2, 3, 4])
    n = 12
    reference = captum_attr.IntegratedGradients(model).attribute(x, baselines=0.0, target=t, n_steps=n,
                                                                 method="riemann_trapezoid")
    ours = integrated_gradients(model, x, target=t, steps=n, method="trapezoid")
    assert torch.allclose(ours, reference * n / (n - 1), atol=1e-10)
    with torch.no_grad():
        change = (model(x) - model(torch.zeros_like(x))).gather(1, t.view(-1, 1))[:, 0]
    ours_gap = (ours.flatten(1).sum(1) - change).abs()
    captum_gap = (reference.flatten(1).sum(1) - change).abs()
    assert captum_gap.sum() > 3 * ours_gap.sum()
