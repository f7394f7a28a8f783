"""The report renders every panel kind, escapes what it shows, inlines its figures, and needs no torch."""
import subprocess
import sys

from limitlab import figures
from limitlab.report import render_figures, write_report
from limitlab.report.figures import render
from limitlab.result import Figure, Metric, Result, Table

PANELS = [
    figures.lines([figures.series("a", [1, 2, 3], [0.1, None, 0.3], lo=[0, 0, 0], hi=[1, 1, 1]),
                   figures.series("b", [1, 2], [1, 2], weights=[1, 10])], hlines=[{"y": 0.5, "label": "ref"}],
                  vspans=[{"x0": 1, "x1": 2, "label": "window"}]),
    figures.bars(["x", "y"], [{"label": "g", "values": [1, 2], "err": [0.1, 0.2]}]),
    figures.hist([{"label": "in", "values": [0.1, 0.5, 0.9]}, {"label": "out", "values": [0.2, 0.3]}]),
    figures.matrix([[0.1, None], [0.3, 0.4]], rows=["r1", "r2"], cols=["c1", "c2"]),
    figures.images([[[0, 1], [1, 0]]] * 3, captions=["a", "b", "c"], overlays=[[[0, 1], [1, 0]], None, None]),
]


def result(claim="A claim.") -> Result:
    return Result("adversarial", claim, "holds", "Evidence <b>0.5</b>.", {"acc": Metric(0.5, "fraction")},
                  [Figure("all", "Every panel", PANELS, caption="cap")], [Table("t", ["a", "b"], [[1, 0.5]])],
                  [{"title": "sample", "text": "def f(): <x>"}], {"eps": 0.1}, {"seed": 0}, rerun="limitlab run x")


def test_every_panel_kind_renders_to_png():
    for panel in PANELS:
        assert render(Figure("one", "t", [panel]))[:4] == b"\x89PNG"


def test_html_is_self_contained_and_escaped(tmp_path):
    path = write_report([render_figures(result("<script>alert(1)</script>."), tmp_path)], tmp_path)
    html = path.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Evidence &lt;b&gt;0.5&lt;/b&gt;." in html and "def f(): &lt;x&gt;" in html
    assert html.count("data:image/png;base64,") == 1 and (tmp_path / "figures" / "adversarial-all.png").exists()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: it opens offline


def test_report_layer_does_not_import_torch():
    code = "import sys, limitlab.report, limitlab.report.figures; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_outputs_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from limitlab._io import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert (tmp_path / "a.json").read_bytes() == b"{}" and len(list(tmp_path.iterdir())) == 1


def test_an_audit_verdict_reads_as_found_or_not_found(tmp_path):
    from limitlab.report.html import render_html
    from limitlab.report.terminal import summary_table

    words = {"holds": ["found", "fails"], "fails": ["not found", "holds"]}
    found = Result("audit-ood", "Is it confident off its data?", "holds", "e.", chapter="audit", labels=words)
    clear = Result("audit-robustness", "How fragile is it?", "fails", "e.", chapter="audit", labels=words)
    study = Result("adversarial", "c.", "holds", "e.", chapter="robustness")
    html = render_html([found, clear, study], run_dir=tmp_path)
    assert '<span class="badge fails">found</span>' in html  # bad news for the model: a failure's colour
    assert '<span class="badge holds">not found</span>' in html
    assert '<span class="badge holds">holds</span>' in html  # a study's verdict is unchanged
    assert '<span class="fails">1 found</span>' in html and '<span class="holds">1 holds</span>' in html
    cells = [c for col in summary_table([found]).columns for c in col._cells]
    assert any(str(c) == "found" and c.style == "bold red" for c in cells)


def test_a_figure_that_cannot_be_drawn_costs_that_figure_only(tmp_path):
    bad = Figure("bad", "Broken", [{"kind": "lines", "series": [{"label": "a", "x": [1, 2], "y": [1]}]}])
    good = Figure("good", "Fine", [PANELS[0]])
    r = render_figures(Result("adversarial", "c.", "holds", "e.", figures=[bad, good]), tmp_path)
    assert r.figures[0].file is None and r.figures[0].error and r.figures[1].file == "figures/adversarial-good.png"
    html = write_report([r], tmp_path).read_text()
    assert "could not be drawn" in html and html.count("data:image/png;base64,") == 1


def test_user_text_is_not_taken_as_rich_markup():
    from rich.console import Console

    from limitlab.report.terminal import print_summary

    console = Console(record=True, width=200)
    print_summary([Result("adversarial", "models=x[/] and [bold]", "holds", "e [/]")], console=console)
    assert "models=x[/] and [bold]" in console.export_text()


def test_a_figure_file_is_named_by_study_and_id_only(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="figure id"):
        Figure("../../escape", "t", [])
    r = Result("adversarial", "c.", "holds", "e.", figures=[Figure("a", "t", [])])
    r.figures[0].file = "/etc/passwd"  # a crafted results file: the report never reads that path
    assert "data:image/png" not in write_report([r], tmp_path).read_text()


def test_a_misspelled_panel_key_fails_where_the_figure_is_built():
    import pytest

    with pytest.raises(ValueError, match="unknown key 'ylable'"):
        Figure("f", "t", [{**figures.lines([]), "ylable": "x"}])
    with pytest.raises(ValueError, match="series\\[0\\]: missing key 'y'"):
        Figure("f", "t", [{"kind": "lines", "series": [{"label": "a", "x": [1]}]}])
    with pytest.raises(ValueError, match="kind 'pie'"):
        Figure("f", "t", [{"kind": "pie"}])
    for panel in PANELS:  # every builder's output is in the table
        Figure("ok", "t", [panel])


def test_a_remedy_card_says_what_to_try_next_escaped_and_survives_json(tmp_path):
    from limitlab.report.html import render_html

    r = Result("audit-calibration", "c.", "holds", "e.", chapter="audit", advice="Fit T on <held-out> data.")
    assert Result.from_json(r.to_json()).advice == r.advice
    html = render_html([r, Result("adversarial", "c.", "holds", "e.")], run_dir=tmp_path)
    assert html.count('class="advice"') == 1 and "Fit T on &lt;held-out&gt; data." in html


def test_seeds_that_disagree_show_each_seeds_evidence(tmp_path):
    from limitlab.report.html import render_html

    line = lambda seed, verdict, evidence: {"seed": seed, "verdict": verdict, "evidence": evidence}  # noqa: E731
    mixed = Result("invariance", "c.", "inconclusive", "Holds on 2/3 seeds, inconclusive on 1.", seeds=[
        line(0, "holds", "gain +4.3%."), line(1, "inconclusive", "gain +9.1%. Not shown: only-covered (<noise>)."),
        line(2, "holds", "gain +4.3%.")])
    alike = Result("bias", "c.", "holds", "Holds on 3/3 seeds.", seeds=[line(k, "holds", f"e{k}.") for k in range(3)])
    html = render_html([mixed, alike], run_dir=tmp_path)
    assert html.count("why the seeds differ") == 1  # only where the verdicts differ
    assert "<b>seed 1: inconclusive.</b> gain +9.1%. Not shown: only-covered (&lt;noise&gt;)." in html
