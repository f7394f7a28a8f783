"""PGD: stays in the eps-ball and the bounds, beats FGSM, reaches targets, leaves the model alone."""
import pytest
import torch
import torch.nn.functional as F

from limitlab.attacks import fgsm, pgd
from limitlab.errors import ConfigError
from tests.helpers import small_cnn


@pytest.fixture()
def batch():
    gen = torch.Generator().manual_seed(1)
    return torch.rand(64, 1, 8, 8, generator=gen), torch.randint(0, 10, (64,), generator=gen)


@pytest.mark.parametrize("norm", ["inf", "2"])
@pytest.mark.parametrize("start", [False, True])
def test_iterates_stay_in_the_ball_and_bounds(batch, norm, start):
    x, y = batch
    eps = 0.1 if norm == "inf" else 0.8
    x_adv = pgd(small_cnn(), x, y, eps=eps, step_size=eps / 4, steps=10, norm=norm, random_start=start,
                generator=torch.Generator().manual_seed(0))
    delta = (x_adv - x).flatten(1)
    size = delta.abs().max(1).values if norm == "inf" else delta.norm(dim=1)
    assert size.max() <= eps + 1e-5
    assert x_adv.min() >= 0 and x_adv.max() <= 1


def test_one_step_without_random_start_equals_fgsm(batch):
    x, y = batch
    model = small_cnn()
    assert torch.allclose(pgd(model, x, y, eps=0.1, step_size=0.1, steps=1), fgsm(model, x, y, eps=0.1))


def test_pgd_is_at_least_as_strong_as_fgsm(batch):
    x, y = batch
    model = small_cnn().eval()
    with torch.no_grad():
        loss_fgsm = F.cross_entropy(model(fgsm(model, x, y, eps=0.1)), y)
        loss_pgd = F.cross_entropy(model(pgd(model, x, y, eps=0.1, step_size=0.025, steps=20)), y)
    assert loss_pgd >= loss_fgsm


def test_targeted_pgd_reaches_its_target(batch):
    x, _ = batch
    model = small_cnn().eval()
    target = torch.full((64,), 3)
    x_adv = pgd(model, x, target, eps=0.5, step_size=0.05, steps=50, targeted=True)
    with torch.no_grad():
        assert (model(x_adv).argmax(1) == 3).float().mean() >= 0.95


def test_model_mode_and_flags_are_restored(batch):
    x, y = batch
    model = small_cnn().train()
    model[0].weight.requires_grad_(False)  # a frozen layer stays frozen, the others stay trainable
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pgd(model, x, y, eps=0.1, step_size=0.02, steps=3)
    assert model.training and model[1].training
    assert not model[0].weight.requires_grad and model[5].weight.requires_grad
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats untouched too


def test_same_generator_gives_the_same_random_start(batch):
    x, y = batch
    model = small_cnn()
    a = pgd(model, x, y, eps=0.1, step_size=0.02, steps=2, random_start=True,
            generator=torch.Generator().manual_seed(5))
    b = pgd(model, x, y, eps=0.1, step_size=0.02, steps=2, random_start=True,
            generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_unknown_norm_names_the_valid_ones(batch):
    x, y = batch
    with pytest.raises(ConfigError, match="inf, 2"):
        pgd(small_cnn(), x, y, eps=0.1, step_size=0.01, steps=1, norm="1")


@pytest.mark.parametrize("targeted", [False, True])
def test_grad_fn_replaces_the_gradient_closed_form(batch, targeted):
    """A constant gradient direction d: L-inf PGD ends at eps * sign(d) (after 4 steps of 0.03 > 0.1);
    L2 PGD at eps * d / ||d|| (5 steps of 0.3 overshoot eps = 1, the projection brings it back)."""
    _, y = batch
    x = torch.full((64, 1, 8, 8), 0.5)
    d = torch.zeros(1, 1, 8, 8)
    d[..., :4] = 2.0
    d[..., 4:6] = -0.5  # the last two columns stay 0: no step there
    model = small_cnn().train()
    seen = []

    def grad_fn(m, x_adv, labels):
        seen.append((m.training, any(p.requires_grad for p in m.parameters()), labels is y))
        return d.expand_as(x_adv).clone()

    sign = -1 if targeted else 1
    got = pgd(model, x, y, eps=0.1, step_size=0.03, steps=5, targeted=targeted, grad_fn=grad_fn)
    torch.testing.assert_close(got - x, (sign * 0.1 * d.sign()).expand_as(x), rtol=0, atol=1e-7)
    got2 = pgd(model, x, y, eps=1.0, step_size=0.3, steps=5, norm="2", targeted=targeted, grad_fn=grad_fn)
    torch.testing.assert_close(got2 - x, (sign * d / d.norm()).expand_as(x), rtol=0, atol=1e-6)
    assert seen == [(False, False, True)] * 10  # called once per step, with the model frozen in eval mode
    assert model.training


def test_pgd_works_inside_a_callers_no_grad_block(batch):
    x, y = batch
    model = small_cnn()
    want = pgd(model, x, y, eps=0.1, step_size=0.02, steps=3)
    with torch.no_grad():
        assert torch.equal(pgd(model, x, y, eps=0.1, step_size=0.02, steps=3), want)
