"""Context: named seeds are stable, and a seeded block leaves torch's global generator as it found it."""
import torch

from limitlab.context import Context


def test_seeded_torch_draws_from_its_names_and_restores_the_global_stream():
    ctx = Context(seed=5)
    torch.manual_seed(0)
    expected_after = torch.rand(3)
    torch.manual_seed(0)
    with ctx.seeded_torch("a", 1):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected_after)  # as if the block had not run
    assert torch.equal(inside, torch.rand(3, generator=ctx.generator("a", 1)))  # seeded from the names
    with ctx.seeded_torch("a", 2):
        assert not torch.equal(torch.rand(3), inside)
