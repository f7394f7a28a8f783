"""Python samples: trimming windows into programs, and whole real programs from held-out files."""
import numpy as np
import pytest

from limitlab.data.pycode import real_programs, statements, syntax_corpora, trim
from limitlab.data.stdlib_source import Corpus, stdlib_corpus
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



def test_a_file_cut_by_the_corpus_budget_gives_its_whole_statements_before_the_cut():
    # The full preset's held-out corpus ended inside a docstring: real_programs raised a SyntaxError. A cut that
    # parses ("cla", "    pa") still ends inside a statement, which must not become a "real program".
    whole = 'import os\n\n\ndef f(x):\n    """Doc\nstring at column 0.\n"""\n    return x\n\n\nclass C:\n    pass\n'
    names = lambda text, cut: [type(s).__name__ for s in statements(text, cut=cut)]  # noqa: E731
    assert names(whole, False) == ["Import", "FunctionDef", "ClassDef"]
    for cut, kept in ((whole.index("Doc") + 2, ["Import"]), (whole.index("class") + 3, ["Import", "FunctionDef"]),
                      (whole.index("pass") + 2, ["Import", "FunctionDef"]), (len(whole), ["Import", "FunctionDef"]),
                      (3, [])):
        assert names(whole[:cut], True) == kept, whole[:cut]
    part = whole[:whole.index("Doc") + 2]
    corpus = Corpus(whole + "\n\n" + part, (whole, part), ("a.py", "b.py"), "digest", cut=True)
    programs = real_programs(corpus, 40, 60, np.random.default_rng(0))
    for p in programs:
        compile(p, "<p>", "exec")
    assert all(p in whole for p in programs) and len(set(programs)) == 3  # import; def f; class C (b: its import)


def test_the_corpus_says_when_its_last_file_is_cut(tmp_path):
    (tmp_path / "a.py").write_text("a = 1\n" * 400)
    (tmp_path / "b.py").write_text("b = 2\n" * 400)
    whole = stdlib_corpus(root=tmp_path, max_chars=10_000)
    assert not whole.cut and whole.files == ("a.py", "b.py")
    part = stdlib_corpus(root=tmp_path, max_chars=3_000)
    assert part.cut and part.texts[-1] == ("b = 2\n" * 400)[:3_000 - 2400 - 2]


@pytest.mark.parametrize("preset", ["tiny", "default", "full"])
def test_every_syntax_preset_draws_real_programs_that_compile(preset):
    from limitlab.studies.syntax import Syntax

    cfg = Syntax.configure(preset=preset).config  # the full preset's held-out file was cut inside a docstring
    corpus, held_out = syntax_corpora(max_chars=cfg.max_chars, sample_chars=cfg.sample_chars)
    assert not set(corpus.files) & set(held_out.files)
    for p in real_programs(held_out, cfg.num_samples, cfg.sample_chars, np.random.default_rng(0)):
        compile(p, "<p>", "exec")
        assert len(p) <= cfg.sample_chars
