"""The model cache never makes a study crash: a corrupt or misshapen entry is retrained and overwritten."""
import torch
from torch import nn

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.models.train import TrainConfig, fit


def data() -> ArrayDataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=gen)
    return ArrayDataset(x, (x[:, 0] > 0).long(), num_classes=2, bounds=(-10.0, 10.0))


def test_an_entry_of_other_shapes_is_retrained_not_a_crash(tmp_path):
    ctx = Context(cache=ModelCache(tmp_path))
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, data(), config=TrainConfig(epochs=2), ctx=ctx)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    [entry] = (tmp_path / "models").rglob("*.safetensors")
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(3, 3), "bias": torch.zeros(3)}, entry)  # a wrong-shaped entry
    again = nn.Linear(4, 2)
    again.load_state_dict(init)
    history = fit(again, data(), config=TrainConfig(epochs=2), ctx=ctx)
    assert not history.cached and ctx.cache.misses == 2 and ctx.cache.hits == 0
    assert all(torch.equal(again.state_dict()[k], trained[k]) for k in trained)
    third = nn.Linear(4, 2)
    third.load_state_dict(init)
    assert fit(third, data(), config=TrainConfig(epochs=2), ctx=ctx).cached  # overwritten with good weights
