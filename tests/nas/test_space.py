"""The search space: its size by enumeration, children's parameter counts by hand, skips, bad input."""
from __future__ import annotations

import itertools

import pytest
import torch

from limitlab.errors import ConfigError
from limitlab.nas import DECISIONS, build_child, canonical, describe, space_size
from limitlab.nas.space import decode

ALL = list(itertools.product(*[range(len(opts)) for _, opts in DECISIONS]))


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_space_size_is_the_number_of_distinct_built_networks():
    assert len({canonical(c) for c in ALL}) == space_size() == 135
    # canonical choices build the same network: same structure (repr) for every sequence that maps to it
    for c in ALL[::7]:
        assert repr(build_child(c)) == repr(build_child(canonical(c)))


def test_mlp_child_by_hand():
    c = (0, 1, 1, 1, 1, 1)  # mlp, 2 layers, width 16, (kernel ignored), tanh, skip
    assert decode(c) == {"kind": "mlp", "layers": 2, "width": 16, "kernel": 5, "act": "tanh", "skip": True}
    assert describe(c) == "mlp 2x16 tanh skip"
    assert count(build_child(c)) == (64 * 16 + 16) + (16 * 16 + 16) + (16 * 10 + 10)


def test_cnn_child_by_hand():
    c = (1, 2, 0, 1, 0, 0)  # cnn, 3 layers, width 8, kernel 5, relu, no skip
    assert describe(c) == "cnn 3x8 k5 relu"
    model = build_child(c)
    assert count(model) == (25 * 8 + 8) + 2 * (8 * 8 * 25 + 8) + (8 * 16 * 10 + 10)
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_skip_adds_the_input():
    model = build_child((0, 1, 0, 0, 0, 1))  # mlp 2x8 relu skip
    with torch.no_grad():
        block = model[3].body[0]
        block.weight.zero_()
        block.bias.zero_()  # relu(0) = 0: the residual block is the identity
        x = torch.rand(4, 1, 8, 8)
        hidden = model[2](model[1](model[0](x)))
        assert torch.equal(model[3](hidden), hidden)


@pytest.mark.parametrize("bad", [(0, 0, 0), (2, 0, 0, 0, 0, 0), (0, 0, 0, 0, -1, 0)])
def test_bad_choices_raise(bad):
    with pytest.raises(ConfigError, match="expected 6 indices"):
        build_child(bad)
