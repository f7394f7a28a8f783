"""MC dropout: incompatible models, agreement with a loop of seeded passes, batch norm left alone."""
import pytest
import torch
from torch import nn

from limitlab.errors import ConfigError, IncompatibleModelError
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
    got = mc_dropout(model, x, samples=6, chunk_rows=len(x), generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(got, loop(model, x, 6, seed=11), rtol=0, atol=0)


def test_batched_mean_matches_the_loop_within_sampling_error():
    model, x = trained_bn(net()), torch.randn(10, 5)
    samples = 3000
    a = mc_dropout(model, x, samples=samples, generator=torch.Generator().manual_seed(1))  # many replicas per forward
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
    mc_dropout(model, x, samples=8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert int(bn.num_batches_tracked) == count
    assert all(m.training for m in model.modules())
    assert torch.equal(torch.get_rng_state(), rng_state)  # a seeded call leaves the global stream alone
    model.eval()
    mc_dropout(model, torch.randn(3, 5), samples=2)
    assert not any(m.training for m in model.modules())


def reference_mc_dropout(model, x, *, samples, chunk_rows=512, seed=None, softmax=True):
    """Frozen copy of mc_dropout before `generator=` (seeded with `seed`, or from the global stream)."""
    import contextlib
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout) and m.p > 0]
    n, per_chunk = len(x), max(1, chunk_rows // max(len(x), 1))
    modes = [(m, m.training) for m in model.modules()]
    rng = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with rng, torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        model.eval()
        for layer in layers:
            layer.train()
        out = []
        for start in range(0, samples, per_chunk):
            k = min(per_chunk, samples - start)
            logits = model(x.repeat(k, *([1] * (x.dim() - 1))))
            out.append((torch.softmax(logits, dim=-1) if softmax else logits).view(k, n, -1))
    for m, mode in modes:
        m.training = mode
    return torch.cat(out)


@pytest.mark.parametrize("chunk_rows,softmax", [(512, True), (7, True), (20, False)])
def test_generator_and_deprecated_seed_give_the_masks_of_before(chunk_rows, softmax):
    model, x = trained_bn(net()), torch.randn(6, 5)
    want = reference_mc_dropout(model, x, samples=9, chunk_rows=chunk_rows, seed=123, softmax=softmax)
    got = mc_dropout(model, x, samples=9, chunk_rows=chunk_rows, softmax=softmax,
                     generator=torch.Generator().manual_seed(123))
    assert torch.equal(got, want)  # generator=Generator().manual_seed(s) is exactly the old seed=s
    with pytest.warns(PendingDeprecationWarning, match="generator=torch.Generator"):
        old = mc_dropout(model, x, samples=9, chunk_rows=chunk_rows, softmax=softmax, seed=123)
    assert torch.equal(old, want)


def test_no_generator_draws_from_the_global_stream_as_before():
    model, x = trained_bn(net()), torch.randn(6, 5)
    torch.manual_seed(8)
    got = mc_dropout(model, x, samples=5)
    after = torch.get_rng_state()
    torch.manual_seed(8)
    want = reference_mc_dropout(model, x, samples=5)
    assert torch.equal(got, want) and torch.equal(after, torch.get_rng_state())  # the global stream advanced alike


def test_a_generator_advances_and_leaves_the_global_stream_alone():
    model, x = trained_bn(net()), torch.randn(6, 5)
    gen = torch.Generator().manual_seed(4)
    state = torch.get_rng_state()
    a, b = mc_dropout(model, x, samples=3, generator=gen), mc_dropout(model, x, samples=3, generator=gen)
    assert torch.equal(torch.get_rng_state(), state)
    assert not torch.equal(a, b)  # the second call continues the stream: new masks
    both = mc_dropout(model, x, samples=6, chunk_rows=18, generator=torch.Generator().manual_seed(4))
    assert torch.equal(torch.cat([a, b]), both)  # ... exactly where the first left it
    with pytest.raises(ConfigError, match="expected one"):
        mc_dropout(model, x, samples=3, seed=1, generator=gen)


def test_more_inputs_than_a_chunk_go_through_in_chunks_of_rows():
    class Rows(nn.Module):
        """Dropout, then records the batch sizes it sees."""

        def __init__(self):
            super().__init__()
            self.drop, self.sizes = nn.Dropout(0.5), []

        def forward(self, x):
            self.sizes.append(len(x))
            return self.drop(x)

    model, x = Rows(), torch.rand(25, 3)
    probs = mc_dropout(model, x, samples=3, chunk_rows=10, generator=torch.Generator().manual_seed(0))
    assert probs.shape == (3, 25, 3) and max(model.sizes) == 10 and sum(model.sizes) == 75
    small = Rows()
    mc_dropout(small, x[:4], samples=3, chunk_rows=10)  # fewer inputs than a chunk: replicas share passes
    assert small.sizes == [8, 4]  # two replicas (8 rows) fit in a chunk of 10, then the third
