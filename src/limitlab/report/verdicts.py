"""How a verdict reads to a person.

A study's "holds" means its claim about deep learning was reproduced on this run. An audit section's
claim is a limitation of the *user's* model, so there "holds" is bad news for them: it reads "found"
(in the colour of a failure) and "fails" reads "not found" (in the colour of a success). The Result
keeps the one vocabulary; only the words and colours on screen change.
"""
from __future__ import annotations

from limitlab.result import Result

AUDIT_CHAPTER = "audit"
_AUDIT = {"holds": ("found", "fails"), "fails": ("not found", "holds")}


def label(r: Result) -> str:
    """The verdict as shown: the verdict itself, or "found" / "not found" for an audit section."""
    return _AUDIT.get(r.verdict, (r.verdict,))[0] if r.chapter == AUDIT_CHAPTER else r.verdict


def tone(r: Result) -> str:
    """The verdict whose colour the label takes ("holds" green, "fails" red, ...)."""
    return _AUDIT.get(r.verdict, (None, r.verdict))[1] if r.chapter == AUDIT_CHAPTER else r.verdict
