"""Python source as samples: programs cut from generated windows or from real files, and static checks.

For the syntax study (sources 001, 003; Karpathy 2015's character models of source code): how much of
a text is Python on the surface (lines that tokenize, a module that parses or compiles) and how much
of what it reads it ever defines. Nothing here runs the code (that is `limitlab.codeexec`).
"""
from __future__ import annotations

import ast
import builtins
import io
import tokenize

import numpy as np

from limitlab.data.stdlib_source import Corpus
from limitlab.errors import DataError

BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__"}


def trim(text: str) -> str:
    """A window of code as a program: from its first code line to the end of that line's block (the first
    line indented less, or the unfinished last line), with that line's indentation removed; so a window
    from inside a method becomes top-level code. Empty if the window has no complete code line."""
    lines = text.split("\n")[:-1]  # the part after the last newline is an unfinished line

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    code = [k for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not code:
        return ""
    first, depth = code[0], indent(lines[code[0]])
    end = next((k for k in code if k > first and indent(lines[k]) < depth), len(lines))
    return "".join(ln[depth:] + "\n" if ln.strip() else "\n" for ln in lines[first:end])


def real_programs(held_out: Corpus, num: int, max_chars: int, rng: np.random.Generator) -> list[str]:
    """`num` runs of consecutive whole top-level statements of held-out files, each starting at a random
    statement that fits and as long as fits in `max_chars` characters: real programs."""
    spans = []  # (file, first line, end line) of every top-level statement, 0-based, end exclusive
    lines = [[line + "\n" for line in text.split("\n")] for text in held_out.texts]  # as ast counts lines
    for f, text in enumerate(held_out.texts):
        spans += [(f, node.lineno - 1, node.end_lineno) for node in ast.parse(text).body]
    fits = [k for k, (f, a, b) in enumerate(spans) if len("".join(lines[f][a:b])) <= max_chars]
    if not fits:
        raise DataError(f"no top-level statement of the held-out files fits in sample_chars={max_chars}; "
                        "raise sample_chars")
    chunks = []
    for k in rng.choice(fits, num, replace=len(fits) < num):
        f, first, last = spans[k]
        for g, _, end in spans[k + 1:]:
            if g != f or len("".join(lines[f][first:end])) > max_chars:
                break
            last = end
        chunks.append("".join(lines[f][first:last]))
    return chunks


def line_tokenizes(line: str) -> bool:
    """Whether one line, on its own and unindented, is a sequence of valid Python tokens."""
    try:
        return all(tok.type != tokenize.ERRORTOKEN
                   for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False


def names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in a module: assignments, defs, arguments, imports, ..."""
    read, bound = set(), set()
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
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return read, bound


def static_checks(program: str) -> dict[str, float | None]:
    """tokenize / parse / compile measures of one program; `undefined` is None if it does not parse."""
    lines = [ln for ln in program.splitlines() if ln.strip()]
    if not lines:  # nothing left after trimming is not a program
        return {"tokenize": 0.0, "parse": 0.0, "compile": 0.0, "undefined": None}
    out: dict[str, float | None] = {"tokenize": float(np.mean([line_tokenizes(ln) for ln in lines]))}
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
