"""The extrapolation study's verdict rule on hand-made metrics, and its config checks."""
import pytest

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import Metric, MetricValues
from limitlab.studies.extrapolation import Extrapolation


def metrics(**changes):
    m = {"rel_in_lstm": 0.6, "fit_in_lstm": 0.05, "rel_out_lstm": 1.3, "rel_in_mlp": 0.01, "rel_out_mlp": 9.0,
         "rel_in_physics": 0.0, "rel_out_physics": 0.0, "rel_in_reduced": 0.3, "rel_out_reduced": 1.0,
         "param_error": 1e-9, "track_lstm": 1.5, "track_mlp": 0.2, "track_reduced": 3.5, "track_physics": 20.0,
         "fn_straight_sin": 0.999, "fn_straight_square": 0.999, "fn_straight_cubic": 0.999, "fn_straight_abs": 1.0}
    return MetricValues({k: Metric(v) for k, v in {**m, **changes}.items()})


def test_verdict_rule():
    study = Extrapolation()
    assert study.judge(metrics()).status == "holds"  # the LSTM's free run inside (0.6) is reported, not judged
    assert study.judge(metrics(rel_out_lstm=0.3)).status == "fails"  # a network extrapolated
    assert study.judge(metrics(rel_out_physics=0.5)).status == "fails"  # the right physics did not
    assert study.judge(metrics(param_error=0.2)).status == "fails"
    assert study.judge(metrics(fit_in_lstm=0.5)).status == "inconclusive"  # did not even fit its training windows
    assert study.judge(metrics(rel_in_mlp=0.3)).status == "inconclusive"
    assert study.judge(metrics(track_reduced=3.0)).status == "inconclusive"  # not more than twice the LSTM's 1.5
    assert study.judge(metrics(track_reduced=3.01)).status == "holds"
    assert study.judge(metrics(fn_straight_sin=0.9)).status == "inconclusive"
    assert study.judge(metrics(track_mlp=None)).status == "inconclusive"
    missing = study.judge(metrics(rel_out_lstm=None))  # not measured: never a decisive failure, never a pass
    assert missing.status == "inconclusive" and "n/a" in missing.evidence


def test_config_checks():
    with pytest.raises(ConfigError, match="num_modeled"):
        Extrapolation.configure(overrides={"num_modeled": 3})
    with pytest.raises(ConfigError, match="functions"):
        Extrapolation.configure(overrides={"functions": "sin,nope"})
    with pytest.raises(ConfigError, match="functions"):
        Extrapolation.configure(overrides={"functions": "sin,sin"})
    with pytest.raises(ConfigError, match="mlp_hidden"):
        Extrapolation.configure(overrides={"mlp_hidden": "64,0"})


def test_resizing_one_arm_leaves_the_others_alone():
    # Issue 12: the arms shared torch's global stream, so a bigger LSTM changed the 1-D fits' R^2.
    small = {"t_test": 14.0, "dt": 0.2, "lstm_epochs": 2, "mlp_epochs": 20, "fn_epochs": 20, "functions": "sin"}
    studies = [Extrapolation.configure(preset="tiny", overrides={**small, "lstm_hidden": h}) for h in (4, 8)]
    runs = [study.run(Context(seed=0, threads=1)) for study in studies]
    a, b = ({k: v.value for k, v in r.metrics.items()} for r in runs)
    assert a["rel_in_lstm"] != b["rel_in_lstm"]  # the resized arm changed
    assert {k: v for k, v in a.items() if "lstm" not in k} == {k: v for k, v in b.items() if "lstm" not in k}
