"""Random search: each child's decisions drawn uniformly and independently.

Bergstra, Bengio. Random search for hyper-parameter optimization. JMLR 2012: the baseline an
architecture search must beat at the same budget (Li, Talwalkar 2019 found it hard to beat for NAS).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from limitlab.config import check
from limitlab.nas.space import DECISIONS
from limitlab.nas.trace import SearchTrace


def random_search(evaluate: Callable[[tuple[int, ...]], float], *, num_children: int,
                  generator: torch.Generator) -> SearchTrace:
    """Train `num_children` uniformly drawn children; `evaluate(choices)` returns each one's reward."""
    check(num_children >= 1, f"num_children={num_children}; expected >= 1")
    trace = SearchTrace()
    sizes: Sequence[int] = [len(opts) for _, opts in DECISIONS]
    for _ in range(num_children):
        choices = tuple(int(torch.randint(0, n, (1,), generator=generator)) for n in sizes)
        trace.add(choices, evaluate(choices))
    return trace
