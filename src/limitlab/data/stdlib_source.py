"""`stdlib-source`: the Python standard library's own `.py` files on this machine, as a text corpus.

The files are found at run time from the interpreter's paths (`sysconfig.get_paths()["stdlib"]`), so
nothing is downloaded. For reproducibility the selection is fixed: the top-level `.py` files of that
folder, sorted by name, that are pure ASCII and between `min_file_chars` and `max_file_chars` long, taken
in order until `max_chars`. The same interpreter version therefore always gives the same corpus; its
`digest` (recorded by studies) tells two corpora apart.
"""
from __future__ import annotations

import hashlib
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from limitlab.errors import DataError

SEPARATOR = "\n\n"  # between files


@dataclass(frozen=True)
class Corpus:
    """Concatenated source `text`, each file's own text `texts`, their names `files`, a sha256 `digest` of `text`;
    `cut` when the last text is its file cut short at the character budget (possibly inside a statement)."""

    text: str
    texts: tuple[str, ...]
    files: tuple[str, ...]
    digest: str
    cut: bool = False


def stdlib_dir() -> Path:
    """The standard library folder of the running interpreter."""
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_corpus(*, max_chars: int = 150_000, min_file_chars: int = 2_000, max_file_chars: int = 30_000,
                  skip: int = 0, root: Path | None = None) -> Corpus:
    """The corpus described in the module docstring; `skip` leaves out that many eligible files first.

    Two calls with different `skip` give disjoint file sets (e.g. training text and held-out text).
    """
    if max_chars < 1 or min_file_chars < 0 or max_file_chars < max(min_file_chars, 1) or skip < 0:
        raise DataError(f"stdlib_corpus(max_chars={max_chars}, min_file_chars={min_file_chars}, "
                        f"max_file_chars={max_file_chars}, skip={skip}); expected positive sizes, min <= max, "
                        "skip >= 0")
    root = Path(root) if root is not None else stdlib_dir()
    paths = sorted(root.glob("*.py"))
    if not paths:
        raise DataError(f"no .py files in {root}; the standard library sources are needed "
                        "(install the Python source files, e.g. the python3-dev/-full package)")
    texts: list[str] = []
    names: list[str] = []
    total, seen, cut = 0, 0, False  # total: length of the joined text so far
    for path in paths:
        try:
            text = path.read_bytes().decode("ascii")
        except (UnicodeDecodeError, OSError):
            continue  # non-ASCII or unreadable: not eligible
        if not min_file_chars <= len(text) <= max_file_chars:
            continue
        seen += 1
        if seen <= skip:
            continue
        room = max_chars - total - (len(SEPARATOR) if texts else 0)
        if room <= 0:
            break
        total += len(text[:room]) + (len(SEPARATOR) if texts else 0)
        cut = room < len(text)
        texts.append(text[:room])
        names.append(path.name)
    if not texts:
        raise DataError(f"no eligible .py files in {root} (ASCII, {min_file_chars}..{max_file_chars} characters, "
                        f"after skipping {skip}); lower min_file_chars or raise max_file_chars")
    joined = SEPARATOR.join(texts)
    return Corpus(joined, tuple(texts), tuple(names), hashlib.sha256(joined.encode()).hexdigest(), cut)
