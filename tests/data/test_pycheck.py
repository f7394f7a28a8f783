"""Static checks: lines that parse in context (by hand), tokenizing lines alone, names read and bound."""
import pytest

from limitlab.data.pycheck import line_tokenizes, lines_in_context, python_so_far, static_checks


def test_python_so_far_tells_unfinished_from_wrong():
    for unfinished in ("x = (1,\n", "def f(x):\n", "if x:\n    y = 2\nelse:\n", '"""doc\n', "@dec\n"):
        assert python_so_far(unfinished), unfinished
    for wrong in ("x = 1 +\n", "def f(:\n", "x = [1, 2\ny = 3\n", "x = 1)\n", "s = 'abc\n",
                  "for i in x:\n    pass\n  y = 1\n"):
        assert not python_so_far(wrong), wrong
    assert python_so_far("return 1\n")  # grammar only: the compiler's 'outside function' check is not syntax


def test_lines_in_context_by_hand():
    assert lines_in_context("x = 1\ny = (2,\n     3)\n\nreturn y\n") == 1.0  # a bracket may span lines
    assert lines_in_context("x = 1\nfoo bar\ny = 2\n") == pytest.approx(2 / 3)  # the bad line costs itself only
    assert lines_in_context("if x:\ny = 1\n") == pytest.approx(1 / 2)  # no indented block: 'y = 1' is dropped
    assert lines_in_context("def f(x):\n    return x\n  z = 1\nw = 2\n") == pytest.approx(3 / 4)  # bad dedent
    assert lines_in_context("@@\nx = 1 +\n") == 0.0 and lines_in_context("\n\n") == 0.0


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
    assert c == {"context": 1.0, "tokenize": 1.0, "parse": 1.0, "compile": 1.0, "undefined": pytest.approx(1 / 5)}
    assert static_checks("return 1\n")["parse"] == 1.0 and static_checks("return 1\n")["compile"] == 0.0
    assert static_checks("def f(:\n")["parse"] == 0.0 and static_checks("def f(:\n")["undefined"] is None
    assert static_checks("") == {"context": 0.0, "tokenize": 0.0, "parse": 0.0, "compile": 0.0, "undefined": None}
