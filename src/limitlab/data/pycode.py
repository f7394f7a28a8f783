"""Python programs as text samples: cut from a generated window, or taken whole from held-out real files.

For the syntax study (sources 001, 003; Karpathy 2015's character models of source code). The checks of
a program's syntax are in `limitlab.data.pycheck`; running it is `limitlab.codeexec`.
"""
from __future__ import annotations

import ast

import numpy as np

from limitlab.data.stdlib_source import Corpus, stdlib_corpus
from limitlab.errors import DataError


def syntax_corpora(*, max_chars: int, sample_chars: int) -> tuple[Corpus, Corpus]:
    """The syntax study's texts: the training corpus (`max_chars`) and the files after it, held out: enough for real
    programs of `sample_chars` and a steady validation loss (20 samples' worth, at least 20,000 characters)."""
    corpus = stdlib_corpus(max_chars=max_chars)
    return corpus, stdlib_corpus(max_chars=max(20 * sample_chars, 20_000), skip=len(corpus.files))


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


def statements(text: str, *, cut: bool = False) -> list[ast.stmt]:
    """The top-level statements of a file's `text`. A text `cut` short at a corpus's character budget may end
    inside a statement, which may even parse (`x = fo`): of such a text, the statements of its longest prefix that
    ends where a column-0 line starts and parses, so every statement returned is whole."""
    if not cut:
        return ast.parse(text).body
    lines = text.split("\n")
    for k in range(len(lines) - 1, 0, -1):  # from the cut backwards; a column-0 line may start a statement
        if lines[k][:1].strip() and not lines[k].startswith("#"):
            try:
                return ast.parse("\n".join(lines[:k])).body
            except SyntaxError:  # the line was inside a string or a bracket: an earlier one
                continue
    return []


def real_programs(held_out: Corpus, num: int, max_chars: int, rng: np.random.Generator) -> list[str]:
    """`num` runs of consecutive whole top-level statements of held-out files, each starting at a random
    statement that fits and as long as fits in `max_chars` characters: real programs."""
    spans = []  # (file, first line, end line) of every top-level statement, 0-based, end exclusive
    lines = [[line + "\n" for line in text.split("\n")] for text in held_out.texts]  # as ast counts lines
    for f, text in enumerate(held_out.texts):  # only the last file may be cut
        spans += [(f, node.lineno - 1, node.end_lineno)
                  for node in statements(text, cut=held_out.cut and f == len(held_out.texts) - 1)]
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
