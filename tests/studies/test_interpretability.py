"""The interpretability study: the tiny run's numbers hang together, and the verdict rule as documented."""
import numpy as np
import pytest
import torch

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.result import MetricValues, Result
from limitlab.studies.interpretability import METHODS, Interpretability
from limitlab.study import get_study
from tests.studies.rules import metric_values


@pytest.fixture(scope="module")
def result() -> Result:
    torch.manual_seed(0)
    return get_study("interpretability").configure(preset="tiny").run(Context(seed=0, threads=1))


def test_metrics_are_in_range(result):
    m = {k: v.value for k, v in result.metrics.items()}
    for name in (*METHODS, "image", "random"):
        assert 0 <= m[f"deletion_auc_{name}"] <= 1 and 0 <= m[f"insertion_auc_{name}"] <= 1
    for name in METHODS:
        for kind in ("top", "all", "all_signed"):
            assert -1 <= m[f"rank_corr_{kind}_{name}"] <= 1
    assert 0 <= m["accuracy"] <= 1


def test_figures_carry_the_metrics(result):
    figs = {f.id: f for f in result.figures}
    assert set(figs) == {"heatmaps", "deletion-insertion", "randomization", "randomization-maps"}
    # The AUC metrics are the areas under the plotted mean curves (trapezoid rule, linear in the mean).
    for panel, kind in zip(figs["deletion-insertion"].panels, ("deletion", "insertion")):
        for s in panel["series"]:
            name = s["label"].split(" (")[0]
            assert np.trapezoid(s["y"], s["x"]) == pytest.approx(result.metric(f"{kind}_auc_{name}"), abs=1e-6)
            assert s["x"][0] == 0 and s["x"][-1] == 1
    lines = figs["randomization"].panels[0]["series"]
    for s in lines:  # step 0 compares the trained model's map with itself; the last step is the metric
        assert s["y"][0] == pytest.approx(1.0)
        assert s["y"][-1] == pytest.approx(result.metric(f"rank_corr_all_{s['label']}"))
        assert s["y"][1] == pytest.approx(result.metric(f"rank_corr_top_{s['label']}"))
    for s in figs["randomization"].panels[1]["series"]:  # signed maps
        assert s["y"][0] == pytest.approx(1.0)
        assert s["y"][-1] == pytest.approx(result.metric(f"rank_corr_all_signed_{s['label']}"))
    gains = figs["deletion-insertion"].panels[2]["groups"]  # the bars: gains over the ink order, as the metrics
    assert gains[0]["values"] == pytest.approx([result.metric(f"deletion_gain_image_{n}") for n in METHODS])
    for n in METHODS:  # a gain: control minus method on deletion (lower is better), the reverse on insertion
        assert result.metric(f"deletion_gain_image_{n}") == pytest.approx(
            result.metric("deletion_auc_image") - result.metric(f"deletion_auc_{n}"), abs=1e-6)
        assert result.metric(f"insertion_gain_random_{n}") == pytest.approx(
            result.metric(f"insertion_auc_{n}") - result.metric("insertion_auc_random"), abs=1e-6)
    heat = figs["heatmaps"].panels[0]
    k = Interpretability.presets["tiny"]["num_examples"]
    assert len(heat["images"]) == len(heat["overlays"]) == k * (len(METHODS) + 1)
    assert all(o is None for o in heat["overlays"][:k])
    assert all(max(map(max, o)) == pytest.approx(1.0) for o in heat["overlays"][k:])  # each map scaled to its max


def test_json_round_trip_keeps_the_table(result):
    again = Result.from_json(result.to_json())
    assert again.tables[0].columns[0] == "method"
    assert [row[0] for row in again.tables[0].rows] == [*METHODS, "image", "random"]


def metrics(over=None, noise=None) -> MetricValues:
    m = {f"{k}_gain_{c}_grad-cam": g for k in ("deletion", "insertion") for c, g in (("random", 0.2), ("image", 0.05))}
    m |= {f"rank_corr_all_{n}": 0.1 for n in METHODS} | {"rank_corr_all_grad-x-input": 0.9} | (over or {})
    return metric_values(m, {k: 0.02 for k in m} | (noise or {}))


def test_verdict_rule():
    judge = Interpretability().judge
    assert judge(metrics()).status == "holds"
    assert "fail at >= 0.5: grad-x-input" in judge(metrics()).evidence
    # Grad-CAM must beat random by 0.05 AUC on both curves, beyond the noise of the paired difference.
    assert judge(metrics({"deletion_gain_random_grad-cam": -0.1})).status == "fails"  # below 0.05 beyond the noise
    assert judge(metrics({"deletion_gain_random_grad-cam": 0.04})).status == "inconclusive"  # inside the noise
    assert judge(metrics({"insertion_gain_random_grad-cam": 0.06})).status == "inconclusive"  # 0.01 over: inside
    # Beating random but not the model-free ink order: the heatmap is not evidence beyond the image.
    beaten = judge(metrics({"deletion_gain_image_grad-cam": -0.11}))
    assert beaten.status == "inconclusive" and "beyond what the image shows" in beaten.evidence
    assert judge(metrics({"insertion_gain_image_grad-cam": 0.01})).status == "inconclusive"  # within its noise
    # Every method passes (or fails) the sanity check: the claim's second half is not shown.
    assert judge(metrics({"rank_corr_all_grad-x-input": 0.49})).status == "inconclusive"
    assert judge(metrics({f"rank_corr_all_{n}": 0.6 for n in METHODS})).status == "inconclusive"
    # A correlation within its noise of the threshold neither fails nor passes; the others still decide.
    assert judge(metrics({"rank_corr_all_gradient": 0.51})).status == "holds"


def test_nothing_measured_is_not_a_pass():
    assert Interpretability().judge(MetricValues({})).status == "inconclusive"


def test_config_checks():
    with pytest.raises(ConfigError, match="num_examples=9"):
        Interpretability.configure(overrides={"num_eval": "8", "num_examples": "9"})
    with pytest.raises(ConfigError, match="unknown config key 'steps'"):
        Interpretability.configure(overrides={"steps": "3"})
