"""The OOD section with your own set: every score's AUROC, FPR95 and AUPR-In equal scikit-learn's (or a hand count)
on the same scores; `--ood FILE` and `ood=` end to end, bad files one line; planted: a model confident on one set
gets that finding (and the advice fits the numbers), one that rejects it does not; the examples are the most
confident inputs."""
import copy
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import nn

from limitlab.audit import audit, build_subject
from limitlab.cli import main
from limitlab.context import Context
from limitlab.uncertainty import mc_dropout
from tests.audit import cases

ALL = {"ood.max_ood": 400}  # every one of your 360 inputs, no sample


def run(model, x, y, **options):
    return audit(model, x, y, preset="tiny", sections="ood", **options)["ood"]


def by_hand(z_in, z_out, tpr=0.95):
    """name -> (AUROC, FPR95, AUPR-In) from float64 logits, by scikit-learn and counting."""
    scores = {"": lambda z: torch.logsumexp(z, 1) - z.max(1).values, "_energy": lambda z: -torch.logsumexp(z, 1),
              "_max-logit": lambda z: -z.max(1).values}
    out = {}
    for name, f in scores.items():
        s_in, s_out = f(z_in).numpy(), f(z_out).numpy()
        is_out = np.r_[np.zeros(len(s_in)), np.ones(len(s_out))]
        threshold = np.sort(s_in)[int(np.ceil(tpr * len(s_in))) - 1]
        out[name] = (roc_auc_score(is_out, np.r_[s_in, s_out]), float(np.mean(s_out <= threshold)),
                     average_precision_score(1 - is_out, -np.r_[s_in, s_out]))
    return out


@pytest.fixture(scope="module")
def digits_test():
    return cases.digits_xy("test")


@pytest.fixture(scope="module")
def flipped(digits_test):
    return digits_test[0].flip(-1).flip(-2)  # upside-down digits: your own OOD set


def test_every_score_on_your_set_equals_sklearn_on_the_same_scores(mlp, digits_test, flipped):
    x, y = digits_test
    r = run(mlp, x, y, bounds=(0.0, 1.0), ood=flipped.numpy(), settings=ALL)
    with torch.no_grad():
        z_in, z_out = mlp(x).double(), mlp(flipped).double()
    for suffix, (auroc, fpr, aupr) in by_hand(z_in, z_out).items():
        assert r.metric(f"auroc_yours{suffix}") == pytest.approx(auroc, abs=1e-12)
        assert r.metric(f"fpr95_yours{suffix}") == pytest.approx(fpr, abs=1e-12)
        assert r.metric(f"aupr_yours{suffix}") == pytest.approx(aupr, abs=1e-12)
        lo, hi = r.metrics[f"auroc_yours{suffix}"].interval
        assert lo < auroc < hi
    assert r.metric("better_yours_energy") == pytest.approx(r.metric("fpr95_yours") - r.metric("fpr95_yours_energy"))
    assert r.metric("num_yours") == 360 and "passed to limitlab.audit" in r.metrics["num_yours"].description
    assert r.evidence.index("yours (passed to limitlab.audit)") < r.evidence.index("uniform-noise")
    conf = torch.softmax(z_out, 1).max(1).values
    assert r.metric("conf_yours") == pytest.approx(float(conf.mean()), abs=1e-12)
    top = conf.argsort(descending=True, stable=True)[:4]  # the examples: the most confident of your set first
    panel = next(f for f in r.figures if f.id == "examples").panels[0]
    assert panel["row_labels"][0] == "yours" and panel["captions"][:4] == [
        f"{int(z_out[i].argmax())} ({float(conf[i]):.2f})" for i in top]


def test_mc_dropout_mutual_information_on_your_set(examples_net, digits_test, flipped):
    x, y = digits_test
    r = run(examples_net, x, y, bounds=(0.0, 1.0), ood=flipped.numpy(), settings=ALL, batch_size=1000)
    raw = build_subject(examples_net, x, y, bounds=(0.0, 1.0)).raw

    def mi(inputs, name):
        p = mc_dropout(raw, inputs, samples=4, chunk_rows=1000,  # the audit's --batch-size
                       generator=Context(seed=0).generator("ood", "mc-dropout", name))
        p = p.double().numpy()
        entropy = lambda q: -(q * np.log(np.where(q > 0, q, 1.0))).sum(-1)  # noqa: E731
        return entropy(p.mean(0)) - entropy(p).mean(0)

    s_in, s_out = mi(x, "given"), mi(flipped, "yours")
    expected = roc_auc_score(np.r_[np.zeros(360), np.ones(360)], np.r_[s_in, s_out])
    assert r.metric("auroc_yours_mc-mi") == pytest.approx(expected, abs=1e-6)
    assert r.metric("mc_samples") == 4 and "auroc_yours_energy" not in r.metrics  # log-probabilities: no energy


class OnLit(nn.Module):
    """The model, with `change` applied to the logits of inputs whose top-left pixel is lit (your OOD set)."""

    def __init__(self, model, change):
        super().__init__()
        self.model, self.change = model, change

    def forward(self, x):
        z = self.model(x)
        return torch.where((x[:, 0, 0, 0] > 0.5)[:, None], self.change(z), z)


def confident(z):
    return z + 30.0 * torch.nn.functional.one_hot(torch.zeros(len(z)).long(), z.shape[1])


def test_planted_a_model_confident_on_your_set_gets_that_finding_one_that_rejects_it_does_not(mlp, digits_test):
    x, y = digits_test
    lit = x.clone()
    lit[:, 0, 0, 0] = 1.0
    accepted = lambda r: r.evidence.partition("accepts half or more of ")[2]  # noqa: E731
    sure = run(OnLit(mlp, confident), x, y, bounds=(0.0, 1.0), ood=lit, settings=ALL)
    assert sure.metrics["fpr95_yours"].interval[0] >= 0.5 and sure.verdict == "holds"
    assert "yours" in accepted(sure) and "outlier exposure" in sure.advice
    uniform = run(OnLit(mlp, torch.zeros_like), x, y, bounds=(0.0, 1.0), ood=lit, settings=ALL)
    assert uniform.metric("fpr95_yours") == 0.0 and "yours" not in accepted(uniform)
    # Every logit shifted down: the softmax cannot see it, the energy can, and the advice names the energy score.
    lowered = run(OnLit(mlp, lambda z: z - 50.0), x, y, bounds=(0.0, 1.0), ood=lit, settings=ALL)
    assert lowered.metric("fpr95_yours") > 0.8 and lowered.metric("fpr95_yours_energy") == 0.0
    assert lowered.metrics["better_yours_energy"].interval[0] > 0.5
    assert "On yours, energy accepts 0% at 95% TPR" in lowered.advice


def test_tabular_examples_are_how_far_the_most_confident_rows_lie_from_the_data(cancer):
    lin, x, y = cancer
    yours = x * 3  # every feature three times its value
    r = run(lin, x, y, ood=yours, settings=ALL)
    with torch.no_grad():
        z = lin(yours).double()
    top = yours[(z[:, 1] - z[:, 0]).abs().argsort(descending=True)[:4]]  # two classes: the widest margins
    span, median = x.amax(0) - x.amin(0), x.median(0).values
    panel = next(f for f in r.figures if f.id == "examples").panels[0]  # yours first
    group = panel["groups"][0]
    assert group["label"] == "yours" and len(panel["categories"]) == 8
    for name, value in zip(panel["categories"], group["values"]):
        j = int(name.removeprefix("feature "))
        assert value == pytest.approx(float(((top[:, j] - median[j]).abs() / span[j]).mean()), rel=1e-5)


@pytest.fixture
def files(tmp_path, monkeypatch):
    (tmp_path / "ood_cli_nets.py").write_text(
        "from torch import nn\n\ndef build():\n    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    gen = torch.Generator().manual_seed(0)
    weights = {"1.weight": torch.randn(3, 16, generator=gen) / 100, "1.bias": torch.zeros(3)}
    save_file(weights, tmp_path / "model.safetensors")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(60, 1, 4, 4)).astype(np.float32)
    np.savez(tmp_path / "test.npz", x=x, y=rng.integers(0, 3, size=60))
    np.savez(tmp_path / "ood.npz", x=np.full((40, 1, 4, 4), 255.0, np.float32))
    return tmp_path, weights, x


def cli(path, *extra):
    return main(["audit", "--model", "ood_cli_nets:build", "--weights", str(path / "model.safetensors"), "--data",
                 str(path / "test.npz"), "--out", str(path / "runs"), "--preset", "tiny", "--bounds", "0,255",
                 "--sections", "ood", *extra])


def test_your_ood_file_through_the_cli(files):
    path, weights, x = files
    assert cli(path, "--ood", str(path / "ood.npz")) == 0
    ood = json.loads((path / "runs" / "latest" / "results.json").read_text())["results"][1]
    assert ood["metrics"]["num_yours"]["description"] == "your OOD set: ood.npz"
    assert ood["evidence"].index("yours (ood.npz): confidence") < ood["evidence"].index("uniform-noise")
    z = lambda v: torch.from_numpy(v).flatten(1).double() @ weights["1.weight"].double().T  # noqa: E731
    expected = by_hand(z(x), z(np.full((40, 1, 4, 4), 255.0)))
    assert ood["metrics"]["auroc_yours_energy"]["value"] == pytest.approx(expected["_energy"][0], abs=1e-6)
    assert ood["metrics"]["aupr_yours"]["value"] == pytest.approx(expected[""][2], abs=1e-6)
    assert "yours" in (path / "runs" / "latest" / "index.html").read_text()


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((20, 3), np.float32)}, "expected (N, 1, 4, 4), the shape of the test inputs"),
    ({"x": np.zeros((3, 1, 4, 4), np.float32)}, "3 inputs; expected at least 10"),
    ({"z": np.zeros((20, 1, 4, 4), np.float32)}, "expected 'x' (the inputs)"),
    ({"x": np.full((20, 1, 4, 4), np.nan, np.float32)}, "NaN/Inf values"),
])
def test_a_bad_ood_file_is_one_line_exit_2_and_writes_nothing(files, capsys, arrays, message):
    path, _, _ = files
    np.savez(path / "bad.npz", **arrays)
    assert cli(path, "--ood", str(path / "bad.npz")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err and "bad.npz" in err, err
    assert not (path / "runs").exists()


def test_your_ood_file_from_python(files):
    path, _, x = files
    report = audit(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), x, np.arange(60) % 3, bounds=(0.0, 255.0),
                   sections="ood", preset="tiny", ood=str(path / "ood.npz"))
    assert report["ood"].metric("num_yours") == 40 and "auroc_yours" in report["ood"].metrics


def test_bn_cnn_is_scored_on_its_normalized_eval_outputs_and_its_examples_are_drawn_in_colour(bn_cnn):
    x, y = cases.color_images(200, 1)
    swapped = x.flip(1)  # the colour channels reversed: your own OOD set
    r = run(bn_cnn, x, y, normalize=(*cases.MEAN, *cases.STD), ood=swapped, settings=ALL)
    assert bn_cnn.training
    net = copy.deepcopy(bn_cnn).eval()
    with torch.no_grad():
        z_in, z_out = net(cases.normalize(x)).double(), net(cases.normalize(swapped)).double()
    for suffix, (auroc, fpr, aupr) in by_hand(z_in, z_out).items():
        assert r.metric(f"auroc_yours{suffix}") == pytest.approx(auroc, abs=1e-6)
        assert r.metric(f"fpr95_yours{suffix}") == pytest.approx(fpr, abs=1e-12)
    panel = next(f for f in r.figures if f.id == "examples").panels[0]
    first = np.array(panel["images"][0])  # your most confidently accepted input, in [0, 1] by the channel bounds
    score = torch.logsumexp(z_out, 1) - z_out.max(1).values
    lo, hi = x.amin(dim=(0, 2, 3)).view(3, 1, 1), x.amax(dim=(0, 2, 3)).view(3, 1, 1)
    expected = ((swapped[int(score.argmin())] - lo) / (hi - lo)).clamp(0, 1).permute(1, 2, 0).numpy()
    assert first.shape == (32, 32, 3) and np.allclose(first, expected, atol=1e-6)
