"""The scale study: the ratios from the counts, and the verdict rule on made-up counts."""
from __future__ import annotations

import pytest

from limitlab.context import Context
from limitlab.result import Metric, MetricValues
from limitlab.studies.scale import RATIOS, Scale


def test_ratios_and_verdict_from_the_counts():
    study = Scale.configure(preset="tiny")
    result = study.run(Context(seed=0, threads=1))
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["ratio_synapses_per_param"] == pytest.approx(1.5e14 / 138_357_544)
    assert m["ratio_neurons_per_param"] == pytest.approx(1e11 / 138_357_544)
    assert m["ratio_synapses_per_connection"] == pytest.approx(1.5e14 / 15_470_264_320)
    assert m["train_flops_vgg16"] == 6 * 15_470_264_320 * 1_281_167 * 74
    assert m["params_cnn"] == 38_282
    hits = [k for k in RATIOS if 10 ** 3.5 <= m[f"ratio_{k}"] < 10 ** 4.5]
    assert result.verdict == ("holds" if hits else "fails")
    assert "1.08e+06" in result.evidence  # synapses / parameters, the reading that does not give 1e4
    assert len(result.tables) == 3 and {f.id for f in result.figures} == {"counts", "throughput", "brain"}


def test_verdict_rule_on_made_up_counts():
    study = Scale()
    m = {"params_vgg16": 138_357_544, "params_alexnet": 61_100_840, "params_alexnet-2012": 1, "macs_vgg16": 1e9,
         "neurons_alexnet-2012": 1, "train_flops_vgg16": 1.0}
    m.update({f"ratio_{k}": 1e6 for k in RATIOS})
    values = lambda: MetricValues({k: Metric(v) for k, v in m.items()})  # noqa: E731
    assert study.judge(values()).status == "fails"
    m["ratio_neurons_per_neuron"] = 4e3
    assert study.judge(values()).status == "holds"
    m["params_vgg16"] = 138_000_000
    assert study.judge(values()).status == "inconclusive"
    m["ratio_neurons_per_neuron"] = 10 ** 4.5  # the upper edge is excluded
    assert study.judge(values()).status == "fails"
    m["ratio_synapses_per_param"] = None  # a ratio not measured: the rule cannot say no ratio gives 1e4
    assert study.judge(values()).status == "inconclusive"
