"""The three searchers on cheap toy rewards: REINFORCE learns, random is uniform, TPE improves, all reproducible."""
from __future__ import annotations

import math

import pytest
import torch

from limitlab.errors import ConfigError
from limitlab.nas import DECISIONS, Controller, SearchTrace, random_search, reinforce_search, tpe_search


def toy(choices):
    """Reward 1 for a CNN (decision 0 = 1), plus a little for wider nets."""
    return float(choices[0] == 1) + 0.1 * choices[2]


def test_trace_best_so_far_by_hand():
    t = SearchTrace()
    for c, r in [((0,), 0.2), ((1,), 0.5), ((2,), 0.4), ((3,), 0.7)]:
        t.add(c, r)
    assert t.best_so_far() == [0.2, 0.5, 0.5, 0.7] and t.best() == ((3,), 0.7)


def test_controller_log_prob_matches_a_manual_replay():
    torch.manual_seed(0)
    ctrl = Controller(hidden=8)
    choices, log_prob = ctrl.sample(torch.Generator().manual_seed(3))
    # replay the same choices step by step and sum the log-softmax of each chosen option
    token, state, total = torch.tensor([ctrl.start]), None, 0.0
    with torch.no_grad():
        for step, (head, c) in enumerate(zip(ctrl.heads, choices)):
            state = ctrl.cell(ctrl.embed(token), state)
            total += float(torch.log_softmax(head(state[0])[0], 0)[c])
            token = torch.tensor([ctrl.offsets[step] + c])
    assert float(log_prob.detach()) == pytest.approx(total, abs=1e-6)
    assert ctrl.sample(torch.Generator().manual_seed(3))[0] == choices


def test_reinforce_raises_the_probability_of_rewarded_choices():
    torch.manual_seed(0)
    ctrl = Controller(hidden=16)
    gen = torch.Generator().manual_seed(0)
    trace, baselines = reinforce_search(toy, num_children=150, controller=ctrl, generator=gen, lr=0.05)
    assert baselines[0] == trace.rewards[0]  # the baseline starts at the first reward
    b = baselines[0]
    for r, nxt in zip(trace.rewards[:5], baselines[1:6]):
        b = 0.8 * b + 0.2 * r
        assert nxt == pytest.approx(b)
    first = sum(c[0] for c in trace.choices[:30]) / 30
    last = sum(c[0] for c in trace.choices[-30:]) / 30
    assert last >= 0.9 and last > first  # nearly always a CNN at the end


def test_random_search_is_uniform_and_reproducible():
    trace = random_search(toy, num_children=3000, generator=torch.Generator().manual_seed(1))
    for d, (_, opts) in enumerate(DECISIONS):
        counts = [sum(c[d] == k for c in trace.choices) for k in range(len(opts))]
        expected = 3000 / len(opts)
        sd = math.sqrt(3000 * (1 / len(opts)) * (1 - 1 / len(opts)))
        assert all(abs(n - expected) < 4 * sd for n in counts), (d, counts)
    again = random_search(toy, num_children=20, generator=torch.Generator().manual_seed(1))
    assert again.choices == trace.choices[:20]


def test_tpe_exploits_after_startup_and_is_reproducible():
    trace = tpe_search(toy, num_children=40, seed=0, num_startup=10)
    later = sum(trace.rewards[20:]) / 20
    assert later > sum(trace.rewards[:10]) / 10 and later > 0.9  # toy's mean under random choice is 0.6
    assert tpe_search(toy, num_children=12, seed=0, num_startup=10).choices == trace.choices[:12]


def test_budgets_are_checked():
    with pytest.raises(ConfigError, match="num_children"):
        random_search(toy, num_children=0, generator=torch.Generator())
