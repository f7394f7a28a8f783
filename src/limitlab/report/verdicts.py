"""How a verdict reads to a person.

A study's "holds" means its claim about deep learning was reproduced on this run. Some Results carry
their own words (`Result.labels`): an audit section's claim is a limitation of the *user's* model, so
there "holds" is bad news for them and reads "found", in the colour of a failure. The Result keeps
the one vocabulary; only the words and colours on screen change.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from limitlab.result import Result


def status_label(status: str, labels: Mapping[str, Sequence[str]] | None = None) -> str:
    return (labels or {}).get(status, (status,))[0]


def status_tone(status: str, labels: Mapping[str, Sequence[str]] | None = None) -> str:
    pair = (labels or {}).get(status)
    return pair[1] if pair and len(pair) > 1 else status


def label(r: Result) -> str:
    """The verdict as shown: the verdict itself, or the word the Result gives it (e.g. "found")."""
    return status_label(r.verdict, r.labels)


def tone(r: Result) -> str:
    """The verdict whose colour the label takes ("holds" green, "fails" red, ...)."""
    return status_tone(r.verdict, r.labels)
