"""The background renderer draws in another process exactly what the report would draw, and reports
what it could not draw, so the report draws that itself."""
import pytest

from limitlab import figures
from limitlab.report import BackgroundRenderer, write_report
from limitlab.report.figures import render
from limitlab.result import Figure, Result


def result(*figs: Figure) -> Result:
    return Result("adversarial", "A claim.", "holds", "Evidence.", figures=list(figs), provenance={"seed": 0})


GOOD = Figure("good", "t", [figures.lines([figures.series("a", [1, 2, 3], [0.1, None, 0.3])])])
BAD = Figure("bad", "t", [{"kind": "no-such-kind"}])


def test_the_worker_draws_the_same_png_and_skips_what_fails(tmp_path):
    with BackgroundRenderer(tmp_path) as renderer:
        renderer.submit(result(GOOD, BAD))
        drawn = renderer.close()
    assert drawn == {"figures/adversarial-good.png"}
    assert (tmp_path / "figures/adversarial-good.png").read_bytes() == render(GOOD)
    assert not (tmp_path / ".figure-jobs").exists()
    # the report draws only what is missing, in this process, where the error shows
    with pytest.raises(KeyError, match="no-such-kind"):
        write_report([result(GOOD, BAD)], tmp_path, drawn=drawn)


def test_an_interrupted_run_kills_the_worker(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with BackgroundRenderer(tmp_path) as renderer:
            raise KeyboardInterrupt
    assert renderer.proc.poll() is not None and not (tmp_path / ".figure-jobs").exists()
