"""PGD with restarts: one restart is `pgd` itself; later restarts only attack what is still correct."""
import torch
from torch import nn

from limitlab.attacks.pgd import pgd
from limitlab.attacks.restarts import pgd_restarts
from tests.helpers import linear_model


class Counting(nn.Module):
    """Counts the rows of every forward pass that builds a graph (an attack step)."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.rows = inner, []

    def forward(self, x):
        if torch.is_grad_enabled():
            self.rows.append(len(x))
        return self.inner(x)


def test_one_restart_is_pgd_with_a_random_start_on_the_correct_inputs():
    model = linear_model(4, 3, seed=1)
    x = torch.rand(64, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)
    got = pgd_restarts(model, x, y, eps=0.1, steps=5, restarts=1, generator=torch.Generator().manual_seed(7))
    want = pgd(model, x, y, eps=0.1, step_size=2.5 * 0.1 / 5, steps=5, random_start=True,
               generator=torch.Generator().manual_seed(7))
    assert torch.equal(got, want)


def test_restarts_attack_only_inputs_no_earlier_restart_fooled_nor_the_misclassified():
    model = Counting(linear_model(4, 3, seed=1))
    x = torch.rand(100, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:10] = (y[:10] + 1) % 3  # misclassified from the start: never attacked
    adv = pgd_restarts(model, x, y, eps=0.2, steps=3, restarts=4, generator=torch.Generator().manual_seed(1))
    per_restart = model.rows[::3]
    assert per_restart[0] == 90 and all(b <= a for a, b in zip(per_restart, per_restart[1:]))
    assert torch.equal(adv[:10], x[:10]) and float((adv - x).abs().max()) <= 0.2 + 1e-6
    with torch.no_grad():
        fooled_once = model(pgd(model, x, y, eps=0.2, step_size=0.2 * 2.5 / 3, steps=3, random_start=True,
                                generator=torch.Generator().manual_seed(1))).argmax(1) != y
        assert int((model(adv).argmax(1) != y).sum()) >= int(fooled_once.sum())
