"""The syntax study's verdict rule on hand-made metrics."""
from limitlab.result import Metric, MetricValues
from limitlab.studies.syntax import Syntax


def metrics(**changes):
    m = {"tokenize_real": 0.9, "run_real": 0.6, "parse_real": 1.0}
    for t in Syntax().config.temperatures:
        m.update({f"tokenize_lstm_T{t:g}": 0.8, f"parse_lstm_T{t:g}": 0.3, f"run_lstm_T{t:g}": 0.1})
    return MetricValues({k: Metric(v) for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Syntax()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(**{"run_lstm_T0.8": 0.5})).status == "fails"  # runs almost as often as real code
    assert study.judge(metrics(**{f"tokenize_lstm_T{t:g}": 0.5 for t in (0.5, 0.8, 1.0)})).status == "inconclusive"

    assert study.judge(metrics(run_real=None)).status == "inconclusive"  # execution not measured
