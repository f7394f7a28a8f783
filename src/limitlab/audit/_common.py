"""What the audit's sections share: the validated data, batched predictions, and the Result they build."""
from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from limitlab.models.train import predict_logits
from limitlab.result import Figure, Result, Table, Verdict
from limitlab.study import MetricLike, as_metric, verdict_rule

CHAPTER = "audit"
LABELS = {"holds": ["found", "fails"], "fails": ["not found", "holds"]}  # a found limitation is bad news
BATCH = 256  # inputs per forward pass: keeps memory flat on a user's large test set


@dataclass(frozen=True)
class AuditData:
    """The user's validated inputs and labels, their bounds, and the model's logits on them (computed once)."""

    x: Tensor
    y: Tensor
    bounds: tuple[float, float]
    logits: Tensor

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def span(self) -> float:
        """hi - lo of the bounds: eps and noise are scaled to it."""
        return self.bounds[1] - self.bounds[0]


def chunks(n: int, size: int = BATCH) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def logits_of(model: nn.Module, x: Tensor) -> Tensor:
    """The model's outputs in eval mode, in batches of `BATCH`; its modes are restored."""
    return predict_logits(model, x, batch_size=BATCH).float()


def section_result(
    section: str, *, claim: str, module: Any, metrics: Mapping[str, MetricLike], verdict: Verdict,
    figures: Iterable[Figure] = (), tables: Iterable[Table] = (), config: Mapping[str, Any] | None = None,
) -> Result:
    """A section's Result, shaped like a study's so the report renders it unchanged.

    `module` is the section's module: its docstring's "Verdict" paragraph is the rule the report shows."""
    return Result(study=f"audit-{section}", claim=claim, verdict=verdict.status, evidence=verdict.evidence,
                  metrics={k: as_metric(v) for k, v in metrics.items()}, figures=list(figures),
                  tables=list(tables), config=dict(config or {}), chapter=CHAPTER,
                  rule=verdict_rule(inspect.getdoc(module)), labels=dict(LABELS))


def fraction(flags: Tensor) -> float:
    return float(flags.float().mean()) if flags.numel() else float("nan")
