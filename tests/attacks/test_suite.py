"""The attack suite: every family at the same Euclidean size, names checked."""
import math

import pytest
import torch

from limitlab.attacks.suite import ATTACKS, attack, halving_eps
from limitlab.errors import ConfigError
from tests.helpers import small_cnn


def test_l2_attacks_use_the_l2_size_of_the_matching_sign_perturbation():
    x, y = torch.rand(8, 1, 8, 8) * 0.5 + 0.25, torch.randint(0, 10, (8,))
    kw = dict(eps=0.05, steps=5, step_ratio=2.5, generator=torch.Generator().manual_seed(0))
    delta = attack("noise-l2", small_cnn(), x, y, **kw) - x
    assert delta.flatten(1).norm(dim=1) == pytest.approx(torch.full((8,), 0.05 * math.sqrt(64)), rel=1e-4)
    for name in ("pgd-l2", "pgd-l2-rs", "gradient-l2"):  # every L2 attack stays within the same L2 size
        size = (attack(name, small_cnn(), x, y, **kw) - x).flatten(1).norm(dim=1)
        assert float(size.max()) <= 0.05 * math.sqrt(64) + 1e-5
    sign = attack("noise-sign", small_cnn(), x, y, **kw) - x
    assert sign.abs().flatten().allclose(torch.full((512,), 0.05))


def test_eps_zero_is_the_input_and_names_are_checked():
    x, y = torch.rand(4, 1, 8, 8), torch.randint(0, 10, (4,))
    for name in ATTACKS:
        assert attack(name, small_cnn(), x, y, eps=0.0, steps=3, step_ratio=2.5) is x
    with pytest.raises(ConfigError, match="expected one of gradient-l2"):
        attack("pgd", small_cnn(), x, y, eps=0.1, steps=3, step_ratio=2.5)
    with pytest.raises(ConfigError, match="cannot be targeted"):
        attack("noise-sign", small_cnn(), x, y, eps=0.1, steps=3, step_ratio=2.5, targeted=True)


def test_halving_eps_is_the_smallest_that_halves_accuracy():
    grid = (0.0, 0.05, 0.1, 0.2)
    assert halving_eps(grid, [0.9, 0.7, 0.45, 0.1]) == 0.1  # 0.45 <= 0.9 / 2
    assert halving_eps(grid, [0.9, 0.8, 0.7, 0.6]) == 0.2  # never halved: the largest
    assert halving_eps((0.1, 0.0, 0.05), [0.3, 0.9, 0.5]) == 0.1  # any order
    with pytest.raises(ConfigError, match="one accuracy per eps"):
        halving_eps(grid, [0.9])


def test_headline_pgd_is_the_worst_of_both_schedules_per_input():
    from limitlab.attacks.suite import headline

    model = small_cnn().eval()
    x = torch.rand(64, 1, 8, 8)
    with torch.no_grad():
        y = model(x).argmax(1)
    out = headline(model, x, y, eps=0.03, steps=8, restarts=2, short_steps=4, short_ratio=2.5,
                   generator=lambda name: torch.Generator().manual_seed(len(name)))
    c = out.correct
    assert c["clean"].tolist() == [1.0] * 64
    torch.testing.assert_close(c["pgd-inf"], torch.minimum(c["pgd-madry"], c["pgd-short"]))
    with torch.no_grad():  # the examples are those that fool the model wherever either schedule did
        fooled = model(out.pgd_examples).argmax(1) != y
    assert torch.equal(fooled, c["pgd-inf"] == 0)
    assert float((out.pgd_examples - x).abs().max()) <= 0.03 + 1e-6
