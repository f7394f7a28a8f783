"""The neural-ode study's pieces: exact saved bytes per block, NFE counts, the adjoint's gradient."""
import numpy as np
import pytest
import torch

from limitlab.context import Context
from limitlab.errors import ConfigError
from limitlab.gradients.step_memory import step_memory as saved_bytes
from limitlab.result import Metric, MetricValues
from limitlab.studies.neural_ode import NeuralODE, NeuralODEConfig, line_deviation, make

CFG = NeuralODE.configure(overrides={"width": 8}).config


def batch(n=4):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_residual_block_saves_two_activations_by_hand():
    x, y = batch()
    one, three = (saved_bytes(make("resnet", n, CFG), x, y)[0] for n in (1, 3))
    # each block tanh -> Linear -> tanh -> Linear saves two tanh outputs (4 x 8 float32 = 128 bytes each);
    # the Linear layers save those same tensors again (no new storage)
    assert three - one == 2 * 2 * 128


def test_adjoint_memory_is_flat_and_direct_grows_and_nfe_counts():
    x, y = batch()
    adj = [saved_bytes(make("ode-adjoint", n, CFG), x, y) for n in (1, 4, 16)]
    direct = [saved_bytes(make("ode-direct", n, CFG), x, y) for n in (1, 4, 16)]
    assert adj[0][0] == adj[1][0] == adj[2][0]
    assert direct[0][0] < direct[1][0] < direct[2][0]
    assert [a[1] for a in adj] == [1, 4, 16] and [a[2] for a in adj] == [1, 4, 16]  # Euler: one f call per step
    assert [d[1] for d in direct] == [1, 4, 16] and [d[2] for d in direct] == [0, 0, 0]


def test_adjoint_gradient_converges_to_the_direct_one():
    x, y = batch(8)
    coarse = NeuralODE.configure(overrides={"width": 8, "train_steps": 2}).adjoint_vs_direct(Context(), x, y)
    fine = NeuralODE.configure(overrides={"width": 8, "train_steps": 32}).adjoint_vs_direct(Context(), x, y)
    assert fine < coarse and fine < 0.02


def test_line_deviation_by_hand():
    assert line_deviation([1, 2, 3], [10, 20, 30]) == 0
    assert line_deviation([1, 2, 3], [10, 30, 30]) == pytest.approx(10 / 30)


def metrics(**changes):
    m = {f"{k}_{arm}": v for arm in ("resnet", "ode_direct") for k, v in
         (("bytes_per_step", 100.0), ("line_deviation", 0.0))}
    m.update({"max_over_min_ode_adjoint": 1.0, "test_acc_ode_adjoint": 0.9, "test_acc_resnet": 0.91,
              "test_acc_ode_direct": 0.9, "test_acc_ode_adaptive": 0.9, "nfe_forward_ode_adaptive": 20})
    m.update({f"bytes_{a}_{e}_L": 1000 for a in ("resnet", "ode_direct", "ode_adjoint") for e in ("min", "max")})
    gap = changes.pop("gap", Metric(-0.01, noise=0.01))
    return MetricValues({**{k: Metric(v) for k, v in {**m, **changes}.items()}, "acc_gap_adjoint": gap})


def test_verdict_rule():
    study = NeuralODE()
    assert study.judge(metrics()).status == "holds"
    assert study.judge(metrics(max_over_min_ode_adjoint=2.0)).status == "fails"
    assert study.judge(metrics(line_deviation_resnet=0.2)).status == "fails"
    # "accuracy": the mean gap over the replicas within 0.03 either way, beyond its noise floor
    assert study.judge(metrics(gap=Metric(-0.4, noise=0.01))).status == "inconclusive"  # a worse ODE: not shown
    assert study.judge(metrics(gap=Metric(0.025, noise=0.01))).status == "inconclusive"  # within 0.03, not beyond noise
    assert study.judge(metrics(gap=Metric(-0.019, noise=0.01))).status == "holds"
    assert study.judge(metrics(gap=Metric(None))).status == "inconclusive"
    assert "-1.9% +- 1.0% (within 0.03 asked)" in study.judge(metrics(gap=Metric(-0.019, noise=0.01))).evidence
    assert study.judge(metrics(bytes_per_step_resnet=0.0)).status == "fails"  # no growth with L
    assert study.judge(MetricValues({})).status == "inconclusive"


def test_config_is_checked():
    with pytest.raises(ConfigError, match="steps=\\[4, 2\\]; expected increasing"):
        NeuralODEConfig(steps=(4, 2))
    with pytest.raises(ConfigError, match="act='swish'; expected one of"):
        NeuralODE.configure(overrides={"act": "swish"})


def test_accuracy_gap_is_the_mean_over_replicas_with_its_larger_noise_floor(tmp_path):
    from limitlab.cache import ModelCache
    from limitlab.data.digits import digits_heldout
    from limitlab.models import predict_logits
    from limitlab.result import Metrics

    study, ctx = NeuralODE.configure(preset="tiny"), Context(seed=3, cache=ModelCache(tmp_path))
    m = Metrics()
    study.accuracy_gap(ctx, {arm: study.trained(ctx, arm) for arm in ("ode-adjoint", "resnet")}, m)
    held = digits_heldout()
    # the same models again (from the cache), scored and compared here with numpy
    hits = {arm: np.array([(predict_logits(study.trained(ctx, arm, k), held.x).argmax(1) == held.y).numpy()
                           for k in range(study.config.replicas)], dtype=float) for arm in ("ode-adjoint", "resnet")}
    a, b = hits["ode-adjoint"], hits["resnet"]
    assert m["acc_gap_adjoint"].value == pytest.approx(a.mean() - b.mean())
    per_digit = a.mean(0) - b.mean(0)
    digits_floor = 2 * per_digit.std(ddof=1) / np.sqrt(len(per_digit))
    replicas_floor = 2 * np.sqrt(a.mean(1).var(ddof=1) / len(a) + b.mean(1).var(ddof=1) / len(b))
    assert m["acc_gap_adjoint"].noise == pytest.approx(max(digits_floor, replicas_floor))
    assert len(per_digit) == 720 and not np.array_equal(a[0], a[1])  # replicas differ
