"""PGD with restarts: never weaker than one run, stays in the ball, and stops once every input is broken."""
import pytest
import torch

from limitlab.attacks.pgd import pgd
from limitlab.attacks.restarts import pgd_restarts
from limitlab.errors import ConfigError
from tests.helpers import small_cnn


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).float().mean())


def test_restarts_are_at_least_as_strong_as_one_run_and_stay_in_the_ball():
    model = small_cnn().eval()
    x = torch.rand(64, 1, 8, 8)
    with torch.no_grad():
        y = model(x).argmax(1)  # every clean input "right"
    kw = dict(eps=0.02, step_size=0.005, steps=5)
    one = pgd(model, x, y, random_start=True, generator=torch.Generator().manual_seed(1), **kw)
    many = pgd_restarts(model, x, y, restarts=4, generator=torch.Generator().manual_seed(1), **kw)
    assert accuracy(model, many, y) <= accuracy(model, one, y)
    assert float((many - x).abs().max()) <= 0.02 + 1e-6 and float(many.min()) >= 0 and float(many.max()) <= 1
    # The first restart is a single run on every input the model got right: inputs it broke keep that example.
    with torch.no_grad():
        broken_once = model(one).argmax(1) != y
    assert torch.equal(many[broken_once], one[broken_once])


def test_restarts_are_checked():
    with pytest.raises(ConfigError, match="restarts=0"):
        pgd_restarts(small_cnn(), torch.rand(2, 1, 8, 8), torch.zeros(2, dtype=torch.long), eps=0.1, step_size=0.01,
                     steps=2, restarts=0)
