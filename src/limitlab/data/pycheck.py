"""Static checks of a Python program's syntax and names; nothing here runs the code (`limitlab.codeexec`).

For the syntax study (sources 001, 003; Karpathy 2015's character models of source code): how much of a
text is Python on the surface (lines that tokenize alone or parse in context, a module that parses or
compiles), and how much of what it reads it ever defines.
"""
from __future__ import annotations

import ast
import builtins
import codeop
import io
import tokenize
import warnings

import numpy as np

BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__"}
# The grammar only (an AST, no compiler checks such as 'return' outside a function), telling an unfinished input
# from a wrong one the way `codeop` does for the interactive prompt (same flags, same "incomplete input" test).
# (typeshed's codeop stub omits the two codeop flags, hence the ignores.)
_SO_FAR = (ast.PyCF_ONLY_AST | codeop.PyCF_DONT_IMPLY_DEDENT  # type: ignore[attr-defined]
           | codeop.PyCF_ALLOW_INCOMPLETE_INPUT)  # type: ignore[attr-defined]


def line_tokenizes(line: str) -> bool:
    """Whether one line, on its own and unindented, is a sequence of valid Python tokens."""
    try:
        return all(tok.type != tokenize.ERRORTOKEN
                   for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False


def python_so_far(source: str) -> bool:
    """Whether `source` is Python so far: a module that parses, or the start of one that more lines could
    finish (an open bracket, block or string)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are warnings, not errors
        try:
            compile(source, "<sample>", "exec", _SO_FAR)
        except SyntaxError as err:
            return "incomplete input" in str(err)
        except ValueError:  # e.g. a null byte
            return False
    return True


def lines_in_context(program: str) -> float:
    """The share of the program's non-blank lines that parse in context. Reading line by line, a line is kept
    when the lines kept so far and it are still `python_so_far`, else dropped: one wrong line costs itself
    (and the lines that only made sense after it), not everything that follows."""
    kept, good, total = "", 0, 0
    for line in program.splitlines(keepends=True):
        if not line.strip():
            kept += line
            continue
        total += 1
        if python_so_far(kept + line):
            kept, good = kept + line, good + 1
    return good / total if total else 0.0


def names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in a module: assignments, defs, arguments, imports, ..."""
    read: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return read, bound


def static_checks(program: str) -> dict[str, float | None]:
    """context / tokenize / parse / compile measures of one program; `undefined` is None if it does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a generated program's odd escapes are SyntaxWarnings: not what we measure
        return _static_checks(program)


def _static_checks(program: str) -> dict[str, float | None]:
    lines = [ln for ln in program.splitlines() if ln.strip()]
    if not lines:  # nothing left after trimming is not a program
        return {"context": 0.0, "tokenize": 0.0, "parse": 0.0, "compile": 0.0, "undefined": None}
    out: dict[str, float | None] = {"context": lines_in_context(program),
                                    "tokenize": float(np.mean([line_tokenizes(ln) for ln in lines]))}
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return {**out, "parse": 0.0, "compile": 0.0, "undefined": None}
    try:
        compile(program, "<sample>", "exec")
        compiled = 1.0
    except (SyntaxError, ValueError):
        compiled = 0.0
    read, bound = names(tree)
    free = read - bound - BUILTINS
    return {**out, "parse": 1.0, "compile": compiled, "undefined": len(free) / len(read) if read else 0.0}
