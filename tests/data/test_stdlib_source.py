"""The stdlib-source corpus: a fixed, sorted selection of files."""
from pathlib import Path

import pytest

from limitlab.data.stdlib_source import stdlib_corpus
from limitlab.errors import DataError


def test_stdlib_corpus_is_a_fixed_sorted_selection(tmp_path: Path):
    for name, text in {"b.py": "x = 1\n" * 10, "a.py": "y = 2\n" * 10, "c.py": "z = 'é'\n" * 10,
                       "d.py": "w = 3\n" * 1000, "e.txt": "not python\n" * 10}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    corpus = stdlib_corpus(root=tmp_path, min_file_chars=10, max_file_chars=100, max_chars=1000)
    assert corpus.files == ("a.py", "b.py")  # c: not ASCII, d: too long, e: not .py
    assert corpus.text == "y = 2\n" * 10 + "\n\n" + "x = 1\n" * 10
    assert stdlib_corpus(root=tmp_path, min_file_chars=10, max_file_chars=100, skip=1).files == ("b.py",)
    assert len(stdlib_corpus(root=tmp_path, min_file_chars=10, max_file_chars=100, max_chars=25).text) == 25
    with pytest.raises(DataError, match="no eligible"):
        stdlib_corpus(root=tmp_path, min_file_chars=10, max_file_chars=100, skip=2)
    real = stdlib_corpus(max_chars=20_000)
    assert real == stdlib_corpus(max_chars=20_000) and len(real.text) == 20_000
    assert not set(real.files) & set(stdlib_corpus(max_chars=20_000, skip=len(real.files)).files)
