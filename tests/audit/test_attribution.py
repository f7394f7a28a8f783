"""The attribution section: Grad-CAM through the audit's model view equals a hand-worked map; the sanity check's
correlations, deletion areas and the random order equal a direct computation (captum's LayerGradCam, scipy's
Spearman, a hand-written deletion loop, the randomization redone by hand); a map that ignores the weights fails
the check and a trained CNN's maps pass it; the user's model is left as it was."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from scipy.stats import spearmanr
from torch import nn

from limitlab.attribution.randomization import parametrized_layers
from limitlab.audit import Options, audit, build_subject, plan
from limitlab.audit.attribution import Attribution, conv_layer
from limitlab.context import Context
from limitlab.errors import ConfigError
from tests.attribution.test_grad_cam import EXPECTED_1, X, hand_net
from tests.audit import cases, planted


def run(model, x, y, **options):
    return {r.study.removeprefix("audit-"): r for r in audit(model, x, y, preset="tiny", **options)}


def picked(n, num=16, seed=0):
    return torch.randperm(n, generator=Context(seed=seed).generator("attribution", "inputs"))[:num].sort().values


def spearman(a, b):
    """Per input: scipy's Spearman of |maps|, with the section's convention for constant maps."""
    out = []
    for p, q in zip(a.flatten(1).abs().numpy(), b.flatten(1).abs().numpy()):
        out.append(1.0 if np.all(p == p[0]) else 0.0 if np.all(q == q[0]) else spearmanr(p, q)[0])
    return np.array(out)


def randomized_by_hand(net, names, seed=0):
    """The cascade's end state, redone: each layer re-initialized from its own sub-stream, top down."""
    net, g = copy.deepcopy(net), Context(seed=seed).generator("attribution", "randomize")
    for name in names:
        sub = int(torch.randint(2**62, (1,), generator=g))
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(torch.Generator().manual_seed(sub).get_state())
            net.get_submodule(name).reset_parameters()
    return net


def deletion_auc_by_hand(net, x, order, target, base, steps):
    """Pixels replaced by `base` (per channel) in decreasing order of `order`, one count at a time."""
    n_pix = order[0].numel()
    counts = torch.round(torch.linspace(0, n_pix, steps + 1)).long()
    aucs = []
    for xi, oi, ti in zip(x, order, target):
        rank = torch.empty(n_pix, dtype=torch.long)
        rank[oi.flatten().argsort(descending=True, stable=True)] = torch.arange(n_pix)
        probs = []
        for c in counts:
            gone = (rank < c).view(1, *oi.shape)
            with torch.no_grad():
                probs.append(float(torch.softmax(net(torch.where(gone, base, xi)[None]), 1)[0, ti]))
        aucs.append(np.trapezoid(probs, counts.numpy() / n_pix))
    return np.array(aucs)


def test_grad_cam_through_the_audits_view_of_a_normalized_model_is_the_hand_worked_map():
    raw = torch.cat([X * 2 + 0.5] * 12)  # the model sees (raw - 0.5) / 2 = X
    y = torch.ones(12, dtype=torch.long)
    s = build_subject(hand_net(), raw, y, normalize="0.5,2", options=Options(layer="1", batch_size=5))
    maps = Attribution().explainer("grad-cam", y, "model.1", 5)(s.raw, s.x)
    assert torch.allclose(maps, EXPECTED_1.expand(12, 3, 3), atol=1e-6)
    a = run(hand_net(), raw, y, normalize="0.5,2", layer="1", sections="attribution")["attribution"]
    panel = a.figures[0].panels[0]
    overlays = [torch.tensor(o) for o in panel["overlays"][4:8]]  # the Grad-CAM row, scaled to its maximum
    assert all(torch.allclose(o, EXPECTED_1 / EXPECTED_1.max(), atol=1e-6) for o in overlays)
    assert a.metric("flat_grad-cam") == 0.0 and a.metric("num_inputs") == 12


@pytest.fixture(scope="module")
def digits_test():
    return cases.digits_xy("test")


def test_examples_net_numbers_equal_captum_scipy_and_a_deletion_loop(examples_net, digits_test):
    x, y = digits_test
    a = run(examples_net, x, y, bounds=(0.0, 1.0), sections="attribution")["attribution"]
    net = copy.deepcopy(examples_net).eval()
    xs = x[picked(len(x))]
    with torch.no_grad():
        target = net(xs).argmax(1)
    names = [n.removeprefix("model.") for n in parametrized_layers(build_subject(net, x, y).raw)]
    assert names == ["fc2", "fc1", "conv2", "conv1"] and conv_layer(net) == "conv2"

    def cam(model):
        small = LayerGradCam(model, model.conv2).attribute(xs, target=target, relu_attributions=True)
        return F.interpolate(small, size=(8, 8), mode="bilinear", align_corners=False)[:, 0].detach()

    trained = cam(net)
    corr = spearman(trained, cam(randomized_by_hand(net, names).eval()))
    assert a.metric("rank_corr_grad-cam") == pytest.approx(corr.mean(), abs=1e-5)
    assert a.metric("rank_corr_grad-cam") < 0.3 and a.metrics["rank_corr_grad-cam"].interval[1] < 0.5  # passes
    base = x.mean(dim=(0, 2, 3)).view(-1, 1, 1)
    by_hand = deletion_auc_by_hand(net, xs, trained, target, base, steps=8)
    assert a.metric("deletion_auc_grad-cam") == pytest.approx(by_hand.mean(), abs=1e-5)
    order = torch.rand(16, 8, 8, generator=Context(seed=0).generator("attribution", "random-order"))
    random_auc = deletion_auc_by_hand(net, xs, order, target, base, steps=8)
    assert a.metric("deletion_auc_random") == pytest.approx(random_auc.mean(), abs=1e-5)
    assert a.metric("gain_grad-cam") == pytest.approx(random_auc.mean() - by_hand.mean(), abs=1e-5)
    assert a.metric("flat_grad-cam") == pytest.approx(np.mean([bool((m == m.flatten()[0]).all()) for m in trained]))


def test_bn_cnn_gradients_are_taken_in_raw_units_and_its_state_is_kept(bn_cnn):
    x, y = cases.color_images(200, 1)
    before = {k: v.clone() for k, v in bn_cnn.state_dict().items()}
    a = run(bn_cnn, x, y, normalize=(*cases.MEAN, *cases.STD), sections="attribution")["attribution"]
    assert bn_cnn.training and all(p.requires_grad for p in bn_cnn.parameters())
    assert all(torch.equal(before[k], v) for k, v in bn_cnn.state_dict().items())
    net = copy.deepcopy(bn_cnn).eval()
    xs = x[picked(len(x))].clone().requires_grad_(True)
    logits = net(cases.normalize(xs))
    target = logits.argmax(1)
    (g,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), xs)  # d logit / d raw input
    base = x.mean(dim=(0, 2, 3)).view(-1, 1, 1)
    wrapped = nn.Sequential(NormalizeRaw(), net)
    by_hand = deletion_auc_by_hand(wrapped, xs.detach(), g.abs().sum(1), target, base, steps=8)
    assert a.metric("deletion_auc_gradient") == pytest.approx(by_hand.mean(), abs=1e-5)


class NormalizeRaw(nn.Module):
    def forward(self, x):
        return cases.normalize(x)


class EdgeEnergy(nn.Module):
    """A fixed edge detector (a buffer: nothing to randomize) whose squared response a 1 x 1 conv and a linear head
    scale: the input gradient is (head weight x conv weight) times the gradient of the edge energy, so its
    magnitude ranks the pixels the same whatever the weights."""

    def __init__(self):
        super().__init__()
        self.register_buffer("sobel", torch.tensor([[[[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]]]))
        gen = torch.Generator().manual_seed(0)
        self.mix, self.head = nn.Conv2d(1, 1, 1), nn.Linear(1, 3)
        with torch.no_grad():
            for p in (*self.mix.parameters(), *self.head.parameters()):
                p.copy_(torch.randn(p.shape, generator=gen))

    def forward(self, x):
        return self.head(self.mix(F.conv2d(x, self.sobel, padding=1) ** 2).mean((2, 3)))


def test_a_map_that_ignores_the_weights_is_found_and_a_trained_cnns_is_not(examples_net, digits_test):
    x, y = digits_test
    only_gradient = {"attribution.methods": ("gradient",)}
    edge = EdgeEnergy()
    with torch.no_grad():
        labels = edge(x).argmax(1)
    a = run(edge, x, labels, bounds=(0.0, 1.0), sections="attribution", settings=only_gradient)["attribution"]
    assert a.metric("rank_corr_gradient") == pytest.approx(1.0, abs=1e-3)  # float32 near-ties aside
    assert a.verdict == "holds" and "sanity check fails" in a.evidence and "shows the input's structure" in a.advice
    b = run(examples_net, x, y, bounds=(0.0, 1.0), sections="attribution", settings=only_gradient)["attribution"]
    assert b.metrics["rank_corr_gradient"].interval[1] < 0.5 and b.metrics["gain_gradient"].interval[0] > 0.05
    assert b.verdict == "fails" and "Evidence about the model: |gradient|" in b.evidence
    assert "pass both checks" in b.advice


def test_a_random_forward_pass_is_unreliable(examples_net, digits_test):
    x, y = digits_test
    a = run(planted.RandomForward(examples_net), x[:60], y[:60], bounds=(0.0, 1.0), sections="attribution")
    assert a["attribution"].verdict == "unreliable"


def test_a_model_without_a_conv_layer_or_images_is_left_out_with_the_reason(mlp, digits_test, cancer):
    x, y = digits_test
    assert Attribution.missing(build_subject(mlp, x, y)) == "no convolutional layer: pass --layer NAME"
    lin, xt, yt = cancer
    assert Attribution.missing(build_subject(lin, xt, yt)) == "needs image inputs (N, C, H, W); the data is (N, 30)"
    subject = build_subject(mlp, x, y)
    assert "audit-attribution" not in plan(subject, preset="tiny").studies
    assert subject.about["not_run"]["attribution"] == "no convolutional layer: pass --layer NAME"
    with pytest.raises(ConfigError, match="section 'attribution' cannot run on this model and data: no conv"):
        audit(mlp, x, y, preset="tiny", sections="attribution")
