"""MC dropout: incompatible models, agreement with a loop of seeded passes, batch norm left alone."""
import pytest
import torch
from torch import nn

from limitlab.errors import IncompatibleModelError
from limitlab.uncertainty import mc_dropout


def net(p: float = 0.3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(p), nn.Linear(16, 3))


def trained_bn(model: nn.Module) -> nn.Module:
    model.train()
    with torch.no_grad():  # give batch norm running statistics far from (0, 1)
        for _ in range(5):
            model(torch.randn(64, 5) * 3 + 2)
    return model


def loop(model: nn.Module, x: torch.Tensor, samples: int, seed: int) -> torch.Tensor:
    """The reference: T separate calls, dropout on, everything else in eval mode."""
    model.eval()
    model[3].train()
    torch.manual_seed(seed)
    with torch.no_grad():
        return torch.stack([torch.softmax(model(x), dim=1) for _ in range(samples)])


def test_no_dropout_or_p_zero_is_incompatible():
    x = torch.randn(2, 5)
    with pytest.raises(IncompatibleModelError, match="no dropout"):
        mc_dropout(nn.Linear(5, 3), x, samples=4)
    with pytest.raises(IncompatibleModelError, match="no dropout"):
        mc_dropout(net(p=0.0), x, samples=4)


def test_one_replica_per_chunk_equals_the_seeded_loop_exactly():
    model, x = trained_bn(net()), torch.randn(7, 5)
    got = mc_dropout(model, x, samples=6, chunk_rows=1, seed=11)
    torch.testing.assert_close(got, loop(model, x, 6, seed=11), rtol=0, atol=0)


def test_batched_mean_matches_the_loop_within_sampling_error():
    model, x = trained_bn(net()), torch.randn(10, 5)
    samples = 3000
    a = mc_dropout(model, x, samples=samples, seed=1)  # many replicas per forward
    b = loop(model, x, samples, seed=2)
    se = ((a.var(0) + b.var(0)) / samples).sqrt()
    z = (a.mean(0) - b.mean(0)).abs() / se.clamp_min(1e-6)
    assert float(z.max()) < 5.0
    assert float(a.std(0).mean()) > 0.01  # the passes really differ


def test_batch_norm_statistics_untouched_and_modes_restored():
    model = trained_bn(net())
    bn = model[1]
    mean, var, count = bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked)
    model.train()
    x = torch.randn(50, 5) * 10
    rng_state = torch.get_rng_state()
    mc_dropout(model, x, samples=8, seed=0)
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert int(bn.num_batches_tracked) == count
    assert all(m.training for m in model.modules())
    assert torch.equal(torch.get_rng_state(), rng_state)  # a seeded call leaves the global stream alone
    model.eval()
    mc_dropout(model, torch.randn(3, 5), samples=2)
    assert not any(m.training for m in model.modules())
