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
    a = pgd(model, x, y, eps=0.1, step_size=0.02, steps=2, random_start=True, generator=torch.Generator().manual_seed(5))
    b = pgd(model, x, y, eps=0.1, step_size=0.02, steps=2, random_start=True, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_unknown_norm_names_the_valid_ones(batch):
    x, y = batch
    with pytest.raises(ConfigError, match="inf, 2"):
        pgd(small_cnn(), x, y, eps=0.1, step_size=0.01, steps=1, norm="1")
