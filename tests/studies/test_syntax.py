"""The syntax study's pieces: trimming, tokenizing, names, the n-gram, the corpus, the cache, the rule."""
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.data.stdlib_source import stdlib_corpus
from limitlab.errors import DataError
from limitlab.studies.syntax import NGram, Syntax, Vocab, line_tokenizes, static_checks, train_lstm, trim


def test_trim_turns_a_window_into_a_program():
    window = "\n        x = 1\n        if x:\n            y = 2\n    def g(self):\n        pass\n    ret"
    assert trim(window) == "x = 1\nif x:\n    y = 2\n"  # from the first code line to the end of its block
    assert trim("    # just a comment\n\n  a = 1\nb = (\n") == "a = 1\n"
    assert trim("no newline at all") == ""


def test_line_tokenizes():
    assert line_tokenizes("    def f(x, *args):")
    assert line_tokenizes("return self._x[1:] + 'a'  # comment")
    assert not line_tokenizes("x = (1,")  # unclosed bracket: the line alone is not complete
    assert not line_tokenizes("s = 'unterminated")
    assert not line_tokenizes("a = 1 $ 2")


def test_static_checks_by_hand():
    program = "import os\ndef f(a):\n    return a + b\nprint(os, f)\n"
    c = static_checks(program)
    # names read: a, b, os, f, print; bound: os, f, a; builtins: print -> only b is undefined, 1 of 5
    assert c == {"tokenize": 1.0, "parse": 1.0, "compile": 1.0, "undefined": pytest.approx(1 / 5)}
    assert static_checks("return 1\n")["parse"] == 1.0 and static_checks("return 1\n")["compile"] == 0.0
    assert static_checks("def f(:\n")["parse"] == 0.0 and static_checks("def f(:\n")["undefined"] is None
    assert static_checks("") == {"tokenize": 0.0, "parse": 0.0, "compile": 0.0, "undefined": None}


def test_ngram_counts_and_samples_what_it_saw():
    vocab = Vocab("abc")
    codes = vocab.encode("abcabcabcab")
    model = NGram(codes, 3, 3)
    keys, counts = model.tables[1]  # context length 1: pairs ab x4, bc x3, ca x3
    assert dict(zip(keys.tolist(), counts.tolist())) == {0 * 3 + 1: 4, 1 * 3 + 2: 3, 2 * 3 + 0: 3}
    out = model.sample(vocab.encode("ab"), 7, 1.0, np.random.default_rng(0))
    assert vocab.decode(out) == "cabcabc"  # every seen context has one continuation


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


def test_character_lstm_is_cached_after_the_first_run(tmp_path: Path):
    cfg = Syntax.configure(preset="tiny", overrides={"train_steps": 5}).config
    vocab = Vocab("def f(x):\n    return x\n")
    codes = np.tile(vocab.encode("def f(x):\n    return x\n"), 20)
    ctx = Context(cache=ModelCache(tmp_path))
    torch.manual_seed(0)
    first, losses = train_lstm(codes, len(vocab.chars), cfg, ctx, "digest")
    torch.manual_seed(0)
    start = time.perf_counter()
    second, cached_losses = train_lstm(codes, len(vocab.chars), cfg, ctx, "digest")
    assert ctx.cache.hits == 1 and cached_losses == losses and len(losses) == 5
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert time.perf_counter() - start < 5


def metrics(**changes):
    m = {"tokenize_real": 0.9, "run_real": 0.6, "parse_real": 1.0}
    for t in Syntax().config.temperatures:
        m.update({f"tokenize_lstm_T{t:g}": 0.8, f"parse_lstm_T{t:g}": 0.3, f"run_lstm_T{t:g}": 0.1})
    return {**m, **changes}


def test_verdict_rule():
    study = Syntax()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(**{"run_lstm_T0.8": 0.5})).status == "fails"  # runs almost as often as real code
    assert study.judge(metrics(**{f"tokenize_lstm_T{t:g}": 0.5 for t in (0.5, 0.8, 1.0)})).status == "inconclusive"
