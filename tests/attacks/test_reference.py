"""The one attack loop gives bit-identical outputs to the attacks as they were before it (frozen copies below).

The studies' metrics depend on these bits: pgd, fgsm, gradient_step and eot_pgd must not change by a
single ulp for the same arguments and the same generator (or the same global seed, with generator=None).
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from limitlab.attacks import eot_pgd, fgsm, gradient_step, pgd
from limitlab.data.transforms import TransformDistribution
from tests.helpers import small_cnn


# ---- frozen copy of src/limitlab/attacks/{_common,pgd,fgsm,gradient_step,eot_pgd}.py before the merge ----
def ref_loss_gradient(model, x, y, *, targeted):
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return -grad if targeted else grad


def _flat_norm(t):
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def ref_project(delta, *, eps, norm):
    return delta.clamp(-eps, eps) if norm == "inf" else delta * (eps / _flat_norm(delta)).clamp(max=1.0)


def ref_clip(x, delta, bounds):
    return (x + delta).clamp(*bounds) - x


def ref_sample_ball(x, *, eps, norm, generator):
    if norm == "inf":
        return (torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1) * eps
    direction = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    direction = direction / _flat_norm(direction)
    radius = torch.rand(len(x), generator=generator, dtype=x.dtype) ** (1.0 / x[0].numel()) * eps
    return direction * radius.view(-1, *([1] * (x.dim() - 1)))


def ref_loop(model, x, y, gradient, *, eps, step_size, steps, norm, random_start, bounds, generator):
    delta = torch.zeros_like(x)
    if random_start:
        delta = ref_clip(x, ref_sample_ball(x, eps=eps, norm=norm, generator=generator), bounds)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    for _ in range(steps):
        grad = gradient(x + delta)
        step = grad.sign() if norm == "inf" else grad / _flat_norm(grad)
        delta = ref_clip(x, ref_project(delta + step_size * step, eps=eps, norm=norm), bounds)
    return (x + delta).detach()


def ref_pgd(model, x, y, *, eps, step_size, steps, norm="inf", random_start=False, targeted=False,
            bounds=(0.0, 1.0), generator=None):
    return ref_loop(model, x, y, lambda v: ref_loss_gradient(model, v, y, targeted=targeted), eps=eps,
                    step_size=step_size, steps=steps, norm=norm, random_start=random_start, bounds=bounds,
                    generator=generator)


def ref_eot_gradient(model, x, y, *, transform, samples, targeted, generator):
    x = x.detach().requires_grad_(True)
    reps = x.repeat(samples, *([1] * (x.dim() - 1)))
    views = transform.sample(len(reps), shape=tuple(x.shape[1:]), generator=generator)(reps)
    loss = F.cross_entropy(model(views), y.repeat(samples), reduction="sum") / samples
    (grad,) = torch.autograd.grad(loss, x)
    return -grad if targeted else grad


def ref_eot_pgd(model, x, y, *, transform, samples, eps, step_size, steps, norm="inf", random_start=False,
                targeted=False, bounds=(0.0, 1.0), generator=None):
    grad = lambda v: ref_eot_gradient(model, v, y, transform=transform, samples=samples,  # noqa: E731
                                      targeted=targeted, generator=generator)
    return ref_loop(model, x, y, grad, eps=eps, step_size=step_size, steps=steps, norm=norm,
                    random_start=random_start, bounds=bounds, generator=generator)


def ref_fgsm(model, x, y, *, eps, bounds=(0.0, 1.0), targeted=False):
    model.eval()
    grad = ref_loss_gradient(model, x, y, targeted=targeted)
    return (x + ref_clip(x, eps * grad.sign(), bounds)).detach()


def ref_gradient_step(model, x, y, *, eta, normalize=False, bounds=(0.0, 1.0), targeted=False):
    model.eval()
    grad = ref_loss_gradient(model, x, y, targeted=targeted)
    step = grad / _flat_norm(grad) if normalize else grad
    return (x + ref_clip(x, eta * step, bounds)).detach()
# ---- end of the frozen copy ----


def batch(dtype=torch.float32, lo=0.0, hi=1.0):
    g = torch.Generator().manual_seed(3)
    return lo + (hi - lo) * torch.rand(24, 1, 8, 8, generator=g, dtype=dtype), torch.randint(0, 10, (24,), generator=g)


def model_for(dtype=torch.float32) -> nn.Module:
    return small_cnn(seed=4).to(dtype)


PGD_CASES = [
    dict(eps=0.1, step_size=0.01, steps=10),
    dict(eps=0.1, step_size=0.03, steps=5, random_start=True),
    dict(eps=0.2, step_size=0.05, steps=7, targeted=True, random_start=True),
    dict(eps=1.5, step_size=0.3, steps=6, norm="2"),
    dict(eps=1.5, step_size=0.3, steps=6, norm="l2", random_start=True, targeted=True),
    dict(eps=0.3, step_size=0.1, steps=4, bounds=(-1.0, 2.0), random_start=True),
    dict(eps=0.0, step_size=0.1, steps=2),
]


@pytest.mark.parametrize("kw", PGD_CASES)
@pytest.mark.parametrize("seeded", ["generator", "global"])
def test_pgd_is_bit_identical_to_the_reference(kw, seeded):
    x, y = batch()
    model = model_for()
    ref_kw = {**kw, "norm": {"l2": "2"}.get(kw.get("norm", "inf"), kw.get("norm", "inf"))}
    if seeded == "generator":
        got = pgd(model, x, y, generator=torch.Generator().manual_seed(7), **kw)
        want = ref_pgd(model, x, y, generator=torch.Generator().manual_seed(7), **ref_kw)
    else:  # generator=None draws from torch's global stream, as before
        torch.manual_seed(11)
        got = pgd(model, x, y, **kw)
        torch.manual_seed(11)
        want = ref_pgd(model, x, y, **ref_kw)
    assert torch.equal(got, want)
    assert float((got - x).abs().max()) > 0 or kw["eps"] == 0  # the attack moved: the test compares real work


def test_pgd_in_float64_and_under_no_grad_is_bit_identical():
    x, y = batch(torch.float64)
    model = model_for(torch.float64)
    with torch.no_grad():
        got = pgd(model, x, y, eps=0.1, step_size=0.02, steps=5, random_start=True,
                  generator=torch.Generator().manual_seed(1))
    want = ref_pgd(model, x, y, eps=0.1, step_size=0.02, steps=5, random_start=True,
                   generator=torch.Generator().manual_seed(1))
    assert got.dtype == torch.float64 and torch.equal(got, want)


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_and_gradient_step_are_bit_identical(targeted):
    x, y = batch()
    model = model_for()
    want = ref_fgsm(model, x, y, eps=0.07, targeted=targeted)
    assert torch.equal(fgsm(model, x, y, eps=0.07, targeted=targeted), want)
    for normalize in (False, True):
        got = gradient_step(model, x, y, eta=0.5, normalize=normalize, targeted=targeted)
        assert torch.equal(got, ref_gradient_step(model, x, y, eta=0.5, normalize=normalize, targeted=targeted))


EOT_CASES = [
    dict(samples=3, eps=0.1, step_size=0.03, steps=4),
    dict(samples=2, eps=0.2, step_size=0.05, steps=3, random_start=True, targeted=True),
    dict(samples=4, eps=1.0, step_size=0.25, steps=3, norm="2", random_start=True),
]


@pytest.mark.parametrize("kw", EOT_CASES)
def test_eot_pgd_is_bit_identical_for_the_same_generator(kw):
    x, y = batch()
    model = model_for()
    dist = TransformDistribution(max_shift=1.0, max_rotation=15.0, noise_std=0.05, max_brightness=0.1)
    got = eot_pgd(model, x, y, transform=dist, generator=torch.Generator().manual_seed(9), **kw)
    want = ref_eot_pgd(model, x, y, transform=dist, generator=torch.Generator().manual_seed(9), **kw)
    assert torch.equal(got, want)
    torch.manual_seed(2)
    got = eot_pgd(model, x, y, transform=dist, **kw)
    torch.manual_seed(2)
    assert torch.equal(got, ref_eot_pgd(model, x, y, transform=dist, **kw))
