"""The attribution methods by name: one map per input, the documented reductions of the single probes."""
import torch

from limitlab import attribution
from limitlab.attribution.methods import LABELS, METHODS, explainers
from limitlab.models import build


def test_each_method_gives_one_map_per_input_of_the_fixed_class():
    torch.manual_seed(0)
    model = build("cnn").eval()
    x, target = torch.rand(3, 1, 8, 8), torch.tensor([1, 4, 7])
    maps = {name: f(model, x) for name, f in explainers(target, layer="features", ig_steps=4).items()}
    assert tuple(maps) == METHODS == tuple(LABELS)
    assert all(m.shape == (3, 8, 8) for m in maps.values())
    torch.testing.assert_close(maps["gradient"], attribution.input_gradient(model, x, target=target).abs()[:, 0])
    torch.testing.assert_close(maps["grad-x-input"],
                               (attribution.input_gradient(model, x, target=target) * x)[:, 0])
    assert float(maps["gradient"].min()) >= 0  # a magnitude
