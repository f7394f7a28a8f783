"""The engine's MLP against the same network in torch, and SGD against torch.optim.SGD."""
import numpy as np
import torch

from limitlab.autodiff import MLP, SGD, Tensor, softmax_cross_entropy


def torch_twin(net: MLP) -> list[torch.Tensor]:
    return [torch.tensor(p.data, requires_grad=True) for p in net.parameters()]


def torch_forward(params, x, act):
    h = torch.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = getattr(torch, act)(h)
    return h


def test_mlp_gradient_matches_torch():
    rng = np.random.default_rng(1)
    for act in ("relu", "tanh", "sigmoid"):
        net = MLP((5, 7, 6, 3), act=act, rng=rng)
        x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
        loss = softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y)
        loss.backward()
        params = torch_twin(net)
        ref = torch.nn.functional.cross_entropy(torch_forward(params, x, act), torch.tensor(y))
        ref.backward()
        assert abs(loss.item() - ref.item()) < 1e-13
        for p, q in zip(net.parameters(), params):
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert net.num_parameters() == 5 * 7 + 7 + 7 * 6 + 6 + 6 * 3 + 3


def test_sgd_matches_torch_momentum():
    rng = np.random.default_rng(2)
    net = MLP((4, 5, 2), act="tanh", rng=rng)
    params = torch_twin(net)
    opt, ref_opt = SGD(net.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(params, lr=0.1, momentum=0.9)
    x, y = rng.normal(size=(10, 4)), rng.integers(0, 2, 10)
    for _ in range(5):
        opt.zero_grad(), ref_opt.zero_grad()
        softmax_cross_entropy(net(Tensor(x, requires_grad=False)), y).backward()
        torch.nn.functional.cross_entropy(torch_forward(params, x, "tanh"), torch.tensor(y)).backward()
        opt.step(), ref_opt.step()
    for p, q in zip(net.parameters(), params):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-13)
