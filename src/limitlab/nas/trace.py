"""`SearchTrace`: what a searcher tried, in order, and what each child scored."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SearchTrace:
    """Children in the order they were trained: `choices` (decision indices) and `rewards`."""

    choices: list[tuple[int, ...]] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)

    def add(self, choices: tuple[int, ...], reward: float) -> None:
        self.choices.append(tuple(choices))
        self.rewards.append(float(reward))

    def best_so_far(self) -> list[float]:
        """The best reward after 1, 2, ..., n children."""
        out, best = [], float("-inf")
        for r in self.rewards:
            best = max(best, r)
            out.append(best)
        return out

    def best(self) -> tuple[tuple[int, ...], float]:
        i = max(range(len(self.rewards)), key=self.rewards.__getitem__)
        return self.choices[i], self.rewards[i]
