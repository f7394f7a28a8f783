"""Children trained once per architecture and scored the same; searchers by name from their own streams."""
from __future__ import annotations

import pytest

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.nas import canonical
from limitlab.nas.children import ChildTrainer
from limitlab.nas.search import run_search, run_searches


def test_trainer_trains_an_architecture_once_and_scores_it_the_same():
    trainer = ChildTrainer(num_train=60, epochs=1, lr=3e-3, ctx=Context(seed=0, threads=1))
    a, b = (0, 0, 0, 0, 0, 1), (0, 0, 0, 1, 0, 0)  # the same 1-layer MLP: kernel and skip do not apply
    assert canonical(a) == canonical(b)
    ra = trainer(a)
    assert trainer(b) == ra and len(trainer.children) == 1
    assert 0 <= ra <= 1 and trainer.children[canonical(a)].steps == 2  # 60 examples, batches of 50


def test_each_searcher_proposes_from_its_own_streams():
    ctx = Context(seed=3, threads=1)
    reward = lambda choices: sum(choices) / 10  # noqa: E731  (a made-up reward: no training)
    alone, _ = run_search("controller", reward, num_children=5, seed=0, ctx=ctx)
    run_search("random", reward, num_children=5, seed=0, ctx=ctx)  # another searcher in between changes nothing
    again, baseline = run_search("controller", reward, num_children=5, seed=0, ctx=ctx)
    assert again.choices == alone.choices and len(baseline) == 5
    other, _ = run_search("controller", reward, num_children=5, seed=1, ctx=ctx)
    assert other.choices != alone.choices
    with pytest.raises(ConfigError, match="valid searchers"):
        run_search("grid", reward, num_children=5, seed=0, ctx=ctx)


def test_run_searches_gives_each_method_a_trace_per_seed_and_equal_budgets():
    ctx = Context(seed=1, threads=1)
    reward = lambda choices: sum(choices) / 10  # noqa: E731
    traces, baselines, seconds = run_searches(("controller", "random"), reward, num_seeds=3, num_children=4, ctx=ctx)
    assert [len(traces[m]) for m in traces] == [3, 3] and set(seconds) == {"controller", "random"}
    assert all(len(t.rewards) == 4 for ts in traces.values() for t in ts) and len(baselines) == 3
    again, _, _ = run_searches(("random",), reward, num_seeds=3, num_children=4, ctx=ctx)
    assert [t.choices for t in again["random"]] == [t.choices for t in traces["random"]]  # its own streams
