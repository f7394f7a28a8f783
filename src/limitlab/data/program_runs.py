"""Sample programs run once each in `limitlab.codeexec`'s sandbox, and what happened to them.

A program the sandbox did not run (a status outside STATUSES, e.g. "not-run" when the machine has no
sandbox) leaves its source's execution not measured: never counted as a failure to run.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from limitlab import codeexec
from limitlab.codeexec import Outcome

STATUSES = ("ok", "error", "timeout", "blocked")  # what the sandbox says about a program it ran


def run_all(programs: Mapping[str, Sequence[str]], *, timeout: float, jobs: int) -> dict[str, list[Outcome]]:
    """source -> one Outcome per program, in one sandbox session; an empty program is an "error" (not run)."""
    flat = [p for ps in programs.values() for p in ps if p]
    missing = codeexec.sandbox_available()  # None, or why this machine has no OS-enforced sandbox
    if missing is None:
        outcomes = iter(codeexec.run_programs(flat, timeout=timeout, jobs=jobs))
    else:  # never run generated code less safely: its execution is then not measured
        outcomes = iter([Outcome("not-run", f"no sandbox on this machine: {missing}")] * len(flat))
    return {src: [next(outcomes) if p else Outcome("error", "empty program") for p in ps]
            for src, ps in programs.items()}


def measured(outcomes: Sequence[Outcome]) -> bool:
    """Whether the sandbox ran every one of these programs (so their run rate means something)."""
    return all(o.status in STATUSES for o in outcomes)


def outcome_row(outcomes: Sequence[Outcome], *, top: int = 4) -> list:
    """Counts per status in STATUSES, the count not run, and the most common exception types."""
    errors = Counter(o.error for o in outcomes if o.status == "error").most_common(top)
    return [*(sum(o.status == s for o in outcomes) for s in STATUSES), sum(o.status not in STATUSES for o in outcomes),
            ", ".join(f"{e} {n}" for e, n in errors)]
