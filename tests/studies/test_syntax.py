"""The syntax study's verdict rule on hand-made metrics (margins against noise floors), and a tiny run."""
from limitlab.context import Context
from limitlab.result import Metric, MetricValues
from limitlab.studies.syntax import Syntax

TEMPS = Syntax().config.temperatures


def metrics(noise=0.02, **changes):
    m = {"context_real": 1.0, "run_real": 0.6, "parse_real": 1.0, "tokenize_real": 0.9, "heldout_loss": 1.1,
         "train_steps": 900, "plateaued": 1.0}
    for t in TEMPS:
        m.update({f"context_lstm_T{t:g}": 0.9, f"parse_lstm_T{t:g}": 0.3, f"run_lstm_T{t:g}": 0.1})
    return MetricValues({k: Metric(v, noise=None if k in ("heldout_loss", "train_steps", "plateaued") else noise)
                         for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Syntax()
    assert study.judge(metrics()).status == "holds"
    assert "stopped at the held-out plateau" in study.judge(metrics()).evidence
    assert study.judge(metrics(**{"run_lstm_T0.8": 0.5})).status == "fails"  # runs almost as often as real code
    assert study.judge(metrics(**{f"context_lstm_T{t:g}": 0.5 for t in TEMPS})).status == "inconclusive"
    # 0.85 >= 0.8 x 1.0, but a margin of 0.05 is inside a floor of 0.06: not shown
    assert study.judge(metrics(noise=0.06, **{f"context_lstm_T{t:g}": 0.85 for t in TEMPS})).status == "inconclusive"
    assert study.judge(metrics(noise=0.02, **{f"context_lstm_T{t:g}": 0.85 for t in TEMPS})).status == "holds"
    # 0.27 <= 0.3 = half of real code's 0.6, but within the noise: meaning not shown, and not a failure either
    assert study.judge(metrics(noise=0.05, **{"run_lstm_T0.8": 0.27})).status == "inconclusive"
    unrun = study.judge(metrics(run_real=None, **{f"run_lstm_T{t:g}": None for t in TEMPS}))
    assert unrun.status == "inconclusive" and "not measured" in unrun.evidence


def test_tiny_run_measures_every_source(monkeypatch):
    result = Syntax.configure(preset="tiny").run(Context(seed=0, threads=1))
    m = result.metrics
    assert m["context_real"].value == 1.0 and m["parse_real"].value == 1.0  # real programs are whole statements
    assert 0 <= m["context_lstm_T0.7"].value <= 1 and m["context_lstm_T0.7"].noise is not None
    assert m["train_steps"].value <= 20 and m["heldout_loss"].value > 0
