"""Gradient probes against hand-worked numbers and independent routes."""
import numpy as np
import pytest
import torch
from torch import nn

from limitlab.errors import IncompatibleModelError
from limitlab.gradients import gradient_bound, layer_factors, layer_gradient_norms, saved_tensor_bytes, spectral_norms
from limitlab.models import build


def test_saved_bytes_hand_count_small_network():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = torch.rand(5, 3)  # float32, no grad: layer 1 saves x (for dW1); tanh saves its output
    with saved_tensor_bytes(exclude=net.parameters()) as saved:
        loss = net(x).sum()
    # x: 5*3*4 = 60 bytes; tanh output: 5*4*4 = 80 bytes (layer 2 saves the same tensor again: no charge)
    assert saved.bytes == 60 + 80
    loss.backward()  # the hook returned the tensors unchanged: backward still works
    assert net[0].weight.grad is not None


def test_saved_bytes_dedups_repeats_and_counts_parameters_unless_excluded():
    v = torch.ones(10, dtype=torch.float64, requires_grad=True)
    with saved_tensor_bytes() as saved:
        y = v.exp()          # saves its result y (80 bytes)
        (y * y).sum()        # saves y twice more: same storage
    assert (saved.bytes, saved.count, saved.packed_bytes) == (80, 3, 240)
    w = torch.ones(4, 3, requires_grad=True)
    x = torch.ones(2, 4, requires_grad=True)
    with saved_tensor_bytes() as all_saved:
        (x @ w).sum()       # saves x (32 bytes) and w (48 bytes)
    with saved_tensor_bytes(exclude=[w]) as no_w:
        (x @ w).sum()
    assert (all_saved.bytes, no_w.bytes) == (80, 32)


def test_bound_holds_on_random_mlps():
    gen = torch.Generator().manual_seed(3)
    for trial in range(24):
        torch.manual_seed(trial)
        act = ("relu", "tanh", "sigmoid", "gelu")[trial % 4]
        init = ("default", "small", "xavier", "he", "orthogonal")[trial % 5]
        depth = int(torch.randint(2, 12, (1,), generator=gen))
        model = build("resnet-mlp", width=int(torch.randint(3, 20, (1,), generator=gen)), depth=depth,
                      act=act, init=init, residual=bool(trial % 3 == 0), branch_scale=float(trial % 2 + 0.5)).double()
        x = torch.rand(16, 1, 8, 8, generator=gen, dtype=torch.float64) * 4 - 2
        y = torch.randint(0, 10, (16,), generator=gen)
        ratio = gradient_bound(model, x, y).ratio
        assert float(ratio.max()) <= 1 + 1e-12, (act, init, depth)


def test_bound_is_exact_for_a_scaled_orthogonal_linear_map():
    q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    lin = nn.Linear(6, 6).double()
    with torch.no_grad():
        lin.weight.copy_(2.5 * q)
    model = nn.Sequential(lin)
    bound = gradient_bound(model, torch.randn(4, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 3]))
    assert bound.factors == pytest.approx([2.5], rel=1e-12)
    torch.testing.assert_close(bound.ratio, torch.ones(4, dtype=torch.float64), rtol=1e-12, atol=0)


def test_layer_factors_hand_values():
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -1.0]]))
    model = build("resnet-mlp", width=2, depth=3, act="sigmoid", residual=True, branch_scale=0.5)
    with torch.no_grad():
        model[2].branch[1].weight.copy_(torch.tensor([[0.0, 2.0], [0.0, 0.0]]))
    factors = layer_factors(model)
    # flatten, first linear, residual 1 + 0.5 * (1/4 * 2) (pre-activation: sigmoid, linear), sigmoid, last linear
    assert factors[2] == pytest.approx(1.25) and factors[3] == 0.25 and len(factors) == 5
    assert layer_factors(nn.Sequential(lin, nn.ReLU())) == pytest.approx([3.0, 1.0])
    with pytest.raises(IncompatibleModelError, match="BatchNorm1d"):
        layer_factors(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))


def test_spectral_norms_against_numpy():
    torch.manual_seed(1)
    model = build("mlp", hidden=(7, 5))
    for name, value in spectral_norms(model).items():
        w = dict(model.named_parameters())[f"{name}.weight"].detach().numpy()
        assert value == pytest.approx(np.linalg.svd(w, compute_uv=False)[0], rel=1e-5)


def test_layer_gradient_norms_against_backward_and_leave_model_alone():
    torch.manual_seed(2)
    model = build("mlp", hidden=(16, 8), dropout=0.5)
    model.train()
    x, y = torch.rand(12, 1, 8, 8), torch.randint(0, 10, (12,))
    norms = layer_gradient_norms(model, x, y)
    assert model.training and all(p.grad is None and p.requires_grad for p in model.parameters())
    model.eval()
    nn.functional.cross_entropy(model(x), y).backward()
    for name, value in norms.items():
        ref = dict(model.named_parameters())[f"{name}.weight"].grad.norm()
        assert value == pytest.approx(float(ref), rel=1e-5)
    ortho = build("resnet-mlp", depth=4, width=8, init="orthogonal", constrain_orthogonal=True)
    assert len(layer_gradient_norms(ortho, x, y)) == 4  # parametrized weights work too
