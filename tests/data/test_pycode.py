"""Python samples: trimming windows into programs, and whole real programs from held-out files."""
import numpy as np
import pytest

from limitlab.data.pycode import real_programs, trim
from limitlab.data.stdlib_source import Corpus
from limitlab.errors import DataError


def test_trim_turns_a_window_into_a_program():
    window = "\n        x = 1\n        if x:\n            y = 2\n    def g(self):\n        pass\n    ret"
    assert trim(window) == "x = 1\nif x:\n    y = 2\n"  # from the first code line to the end of its block
    assert trim("    # just a comment\n\n  a = 1\nb = (\n") == "a = 1\n"
    assert trim("no newline at all") == ""


def test_real_programs_are_whole_top_level_statements_that_fit():
    text = "import os\n\n\ndef f(x):\n    return x\n\n\nclass C:\n    pass\n"
    corpus = Corpus(text, (text,), ("a.py",), "digest")
    programs = real_programs(corpus, 5, 40, np.random.default_rng(0))
    assert len(programs) == 5
    for p in programs:  # each parses, and is a run of the file's statements of at most 40 characters
        compile(p, "<p>", "exec")
        assert len(p) <= 40 and p in text
    assert "import os\n\n\ndef f(x):\n    return x\n" in real_programs(corpus, 20, 40, np.random.default_rng(1))
    with pytest.raises(DataError, match="sample_chars"):
        real_programs(corpus, 1, 5, np.random.default_rng(0))

