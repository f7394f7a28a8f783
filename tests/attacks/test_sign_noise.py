"""Sign noise: a random vertex of the L-inf ball, clipped to the bounds (numbers or per-feature tensors)."""
import torch

from limitlab.attacks.sign_noise import sign_noise


def test_every_value_moves_by_eps_unless_clipped():
    x = torch.full((200, 5), 0.5)
    out = sign_noise(x, eps=0.1, generator=torch.Generator().manual_seed(0))
    assert torch.allclose((out - x).abs(), torch.full_like(x, 0.1))
    assert abs(float((out > x).float().mean()) - 0.5) < 0.05


def test_per_feature_bounds_clip_each_feature():
    x = torch.tensor([[0.0, 10.0]] * 50)
    out = sign_noise(x, eps=3.0, bounds=(torch.tensor([0.0, 9.0]), torch.tensor([1.0, 12.0])),
                     generator=torch.Generator().manual_seed(0))
    assert set(out[:, 0].tolist()) == {0.0, 1.0} and set(out[:, 1].tolist()) == {9.0, 12.0}
