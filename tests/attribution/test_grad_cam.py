"""Grad-CAM against a map worked out by hand, against Captum, and its hook hygiene."""
import pytest
import torch
from torch import nn

from limitlab.attribution import grad_cam
from limitlab.errors import IncompatibleModelError
from limitlab.models import build


def hand_net() -> nn.Sequential:
    """conv (channel 0: the pixel itself, channel 1: its 3x3 box sum), ReLU, global mean, linear."""
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0
        conv.weight[1, 0] = 1.0
    head = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[2.0, -1.0], [-1.0, 1.0]]))
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)


X = torch.tensor([[[[0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])
# Box sums of X (zero padding): [[1.5, 1.5, 1], [1.5, 1.5, 1], [1, 1, 1]]. The class score is
# y_c = sum_k v_ck mean(A^k), so alpha_k = v_ck / 9 and L^c = ReLU(sum_k v_ck A^k) / 9.
# Class 1 (v = -1, 1): ReLU(box - x) / 9. Class 0 (v = 2, -1): ReLU(2x - box) / 9, positive only at the centre.
# Logits: class 0 = (2 * 1.5 - 11) / 9 = -8/9, class 1 = (11 - 1.5) / 9 = 9.5/9, so the prediction is 1.
EXPECTED_1 = torch.tensor([[1.0, 1.5, 1.0], [1.5, 0.5, 1.0], [1.0, 1.0, 1.0]]) / 9
EXPECTED_0 = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]]) / 9


def test_hand_worked_map():
    net = hand_net()
    assert torch.allclose(net(X), torch.tensor([[-8 / 9, 9.5 / 9]]), atol=1e-6)
    assert torch.allclose(grad_cam(net, X, layer=net[1], target=1)[0], EXPECTED_1, atol=1e-6)
    assert torch.allclose(grad_cam(net, X, layer=net[1], target=0)[0], EXPECTED_0, atol=1e-6)
    assert torch.allclose(grad_cam(net, X, layer="1")[0], EXPECTED_1, atol=1e-6)  # target None: the prediction


def test_batch_gets_one_map_per_input_and_class():
    net = hand_net()
    x = torch.cat([X, X.flip(-1)])
    cam = grad_cam(net, x, layer=net[1], target=torch.tensor([1, 0]))
    assert torch.allclose(cam[0], EXPECTED_1, atol=1e-6)
    assert torch.allclose(cam[1], EXPECTED_0.flip(-1), atol=1e-6)


def test_inplace_relu_after_the_layer_does_not_change_the_map():
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 16, 4))
    inplace = nn.Sequential(plain[0], nn.ReLU(inplace=True), plain[2], plain[3])
    x = torch.rand(3, 1, 4, 4)
    expected = grad_cam(plain, x, layer=plain[0], target=2)
    assert expected.abs().sum() > 0
    assert torch.allclose(grad_cam(inplace, x, layer=inplace[0], target=2), expected, atol=1e-6)


def test_upsampling_to_the_input_size():
    torch.manual_seed(0)
    model = build("cnn").eval()
    x = torch.rand(4, 1, 8, 8)
    small = grad_cam(model, x, layer=model.pool, upsample=False)
    assert small.shape == (4, 4, 4)
    big = grad_cam(model, x, layer=model.pool)
    assert big.shape == (4, 8, 8)
    # Bilinear upsampling by 2 (align_corners=False): interior output pixel (2i+1, 2j+1) mixes
    # small pixels (i, j), (i, j+1), (i+1, j), (i+1, j+1) with weights 9/16, 3/16, 3/16, 1/16.
    s = small[:, 0:2, 0:2]
    manual = (9 * s[:, 0, 0] + 3 * s[:, 0, 1] + 3 * s[:, 1, 0] + s[:, 1, 1]) / 16
    assert torch.allclose(big[:, 1, 1], manual, atol=1e-6)


class Boom(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x):
        self.conv(x)
        raise RuntimeError("boom")


def test_hooks_removed_and_state_restored_when_forward_raises():
    model = Boom().train()
    with pytest.raises(RuntimeError, match="boom"):
        grad_cam(model, torch.rand(2, 1, 4, 4), layer=model.conv, target=0)
    assert not model.conv._forward_hooks
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_hooks_removed_and_state_restored_after_success():
    torch.manual_seed(0)
    model = build("cnn").train()
    grad_cam(model, torch.rand(2, 1, 8, 8), layer=model.features)
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training and all(m.training for m in model.modules())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_bad_layers_are_one_line_errors():
    model = build("cnn")
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(IncompatibleModelError, match="no layer 'feature'.*features"):
        grad_cam(model, x, layer="feature")
    with pytest.raises(IncompatibleModelError, match="not a submodule"):
        grad_cam(model, x, layer=nn.Conv2d(1, 1, 3))
    with pytest.raises(IncompatibleModelError, match=r"\(2, 10\).*convolutional"):
        grad_cam(model, x, layer="classifier")
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("layer", ["features", "features.2", "features.3"])
def test_matches_captum_at_the_input_resolution(layer):
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(1)
    model = build("cnn").eval()
    x = torch.rand(6, 1, 8, 8)
    target = model(x).argmax(1)
    reference = captum_attr.LayerGradCam(model, model.get_submodule(layer)).attribute(
        x, target=target, relu_attributions=True)
    assert reference.abs().sum() > 0
    assert torch.allclose(grad_cam(model, x, layer=layer), reference[:, 0], atol=1e-6)


def test_matches_captum_at_a_coarser_layer():
    # Captum keeps the layer's 4x4 resolution; interpolated bilinearly it matches our upsampled map.
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(2)
    model = build("cnn").eval()
    x = torch.rand(6, 1, 8, 8)
    small = captum_attr.LayerGradCam(model, model.pool).attribute(x, target=3, relu_attributions=True)
    assert torch.allclose(grad_cam(model, x, layer=model.pool, target=3, upsample=False), small[:, 0], atol=1e-6)
    big = captum_attr.LayerAttribution.interpolate(small, (8, 8), interpolate_mode="bilinear")
    assert torch.allclose(grad_cam(model, x, layer=model.pool, target=3), big[:, 0], atol=1e-6)
    # Captum's default upsampling is "nearest": a different map, hence our explicit mode above.
    nearest = captum_attr.LayerAttribution.interpolate(small, (8, 8))
    assert torch.allclose(nearest[:, 0], small[:, 0].repeat_interleave(2, 1).repeat_interleave(2, 2))
