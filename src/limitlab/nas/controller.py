"""An LSTM controller trained with REINFORCE to emit child architectures (Zoph & Le 2017).

Zoph, Le. Neural architecture search with reinforcement learning. ICLR 2017, arXiv:1611.01578.
Williams. Simple statistical gradient-following algorithms for connectionist reinforcement learning.
Machine Learning 1992 (REINFORCE). The controller emits one decision per step: the LSTM reads an
embedding of the previous decision, a per-decision linear head gives that decision's logits, and the
choice is sampled. After each child is trained, the policy gradient (R - b) * grad log p(choices)
moves the controller, with b an exponential moving average of past rewards (the variance-reducing
baseline of the paper).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from limitlab.config import check
from limitlab.nas.space import DECISIONS
from limitlab.nas.trace import SearchTrace


class Controller(nn.Module):
    """LSTMCell over the decisions; `sample(generator)` -> (choices, sum of log-probabilities)."""

    def __init__(self, *, hidden: int = 32) -> None:
        super().__init__()
        sizes = [len(opts) for _, opts in DECISIONS]
        self.offsets = [0, *torch.tensor(sizes).cumsum(0).tolist()[:-1]]
        self.embed = nn.Embedding(sum(sizes) + 1, hidden)  # every option of every decision, plus "start"
        self.cell = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in sizes)
        self.start = sum(sizes)

    def sample(self, generator: torch.Generator) -> tuple[tuple[int, ...], Tensor]:
        token = torch.tensor([self.start])
        state = None
        choices, log_prob = [], torch.zeros(())
        for step, head in enumerate(self.heads):
            h, c = self.cell(self.embed(token), state)
            state = (h, c)
            probs = torch.softmax(head(h)[0], dim=0)
            choice = int(torch.multinomial(probs.detach(), 1, generator=generator))
            log_prob = log_prob + torch.log(probs[choice])
            choices.append(choice)
            token = torch.tensor([self.offsets[step] + choice])
        return tuple(choices), log_prob


def reinforce_search(evaluate: Callable[[tuple[int, ...]], float], *, num_children: int,
                     controller: Controller, generator: torch.Generator, lr: float = 0.05,
                     baseline_decay: float = 0.8) -> tuple[SearchTrace, list[float]]:
    """Sample a child, train it (`evaluate`), update the controller by REINFORCE; repeat `num_children` times.

    Returns the trace and the baseline before each update. The baseline starts at the first reward
    (so the first update is zero) and then b <- decay * b + (1 - decay) * R.
    """
    check(num_children >= 1, f"num_children={num_children}; expected >= 1")
    check(0 <= baseline_decay < 1, f"baseline_decay={baseline_decay}; expected 0 <= decay < 1")
    opt = torch.optim.Adam(controller.parameters(), lr=lr)
    trace, baselines = SearchTrace(), []
    baseline: float | None = None
    for _ in range(num_children):
        choices, log_prob = controller.sample(generator)
        reward = evaluate(choices)
        trace.add(choices, reward)
        baseline = reward if baseline is None else baseline
        baselines.append(baseline)
        loss = -(reward - baseline) * log_prob
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        baseline = baseline_decay * baseline + (1 - baseline_decay) * reward
    return trace, baselines
