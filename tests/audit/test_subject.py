"""The subject: output kinds read correctly, bounds given / inferred / from files, normalization, one-line errors."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from limitlab.audit import build_subject
from limitlab.audit.bounds import Bounds, parse_normalize, resolve
from limitlab.audit.outputs import detect, to_logits
from limitlab.errors import ConfigError, DataError, IncompatibleModelError
from tests.helpers import linear_model


class Const(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def forward(self, x):
        return self.out[: len(x)]


@pytest.mark.parametrize("last, out, kind, single", [
    (nn.Softmax(1), torch.softmax(torch.randn(20, 4), 1), "probabilities", False),
    (nn.LogSoftmax(1), torch.log_softmax(torch.randn(20, 4), 1), "log-probabilities", False),
    (nn.Identity(), torch.randn(20, 4), "logits", False),
    (nn.Sigmoid(), torch.rand(20), "probabilities", True),
    (nn.Identity(), 3 * torch.randn(20, 1), "logits", True),
])
def test_output_kind_from_the_outputs_and_the_last_module(last, out, kind, single):
    got = detect(out, nn.Sequential(nn.Linear(2, 2), last))
    assert (got.kind, got.single, got.last) == (kind, single, type(last).__name__)


def test_outputs_become_the_logits_the_model_means():
    z = torch.randn(5, 3, dtype=torch.float64)
    p = torch.softmax(z, 1)
    assert torch.allclose(torch.softmax(to_logits(p, detect(p, nn.Softmax(1))), 1), p)
    q = torch.tensor([0.2, 0.9], dtype=torch.float64)
    two = to_logits(q, detect(q, nn.Sigmoid()))
    assert torch.allclose(torch.softmax(two, 1)[:, 1], q)
    s = torch.tensor([[-2.0], [3.0]])
    assert to_logits(s, detect(s, nn.Identity())).tolist() == [[0.0, -2.0], [0.0, 3.0]]


def test_bounds_given_inferred_and_from_files(tmp_path):
    x = torch.rand(30, 3, 4, 4) * torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    inferred = resolve(x, None)
    assert inferred.inferred and "per channel" in inferred.source
    assert torch.equal(inferred.hi[:, 0, 0], x.amax(dim=(0, 2, 3)))
    np.savez(tmp_path / "b.npz", lo=np.zeros(3), hi=np.array([1.0, 2.0, 3.0]))
    given = resolve(x, tmp_path / "b.npz")
    assert not given.inferred and "per channel" in given.source and given.hi.shape == (3, 4, 4)
    (tmp_path / "b.csv").write_text("0,0,0\n1,2,3\n")
    assert torch.equal(resolve(x, str(tmp_path / "b.csv")).hi, given.hi)
    assert resolve(x, "0,3").source == "given"
    table = torch.randn(40, 5)
    assert "per feature" in resolve(table, None).source
    with pytest.raises(DataError, match="values outside the bounds"):
        resolve(x, "0,1")
    np.savez(tmp_path / "bad.npz", lo=np.zeros(7), hi=np.ones(7))
    with pytest.raises(DataError, match="does not fit inputs of shape"):
        resolve(x, tmp_path / "bad.npz")
    with pytest.raises(ConfigError, match="LO >= HI"):
        resolve(x, "3,0")


def test_normalize_parses_per_channel_values():
    mean, std = parse_normalize("0.1,0.2,0.3,1,2,4", 3)
    assert mean.tolist() == pytest.approx([0.1, 0.2, 0.3]) and std.tolist() == [1.0, 2.0, 4.0]
    assert parse_normalize("0.5,0.25", 3)[1].tolist() == [0.25] * 3
    for bad in ("0.1,0.2,0.3", "a,b", "0,0"):
        with pytest.raises(ConfigError, match="--normalize"):
            parse_normalize(bad, 3)


def test_the_audited_views_agree_with_the_model():
    model = linear_model(4, 3, seed=0)
    x = torch.rand(50, 4) * 10 - 5
    s = build_subject(model, x, torch.zeros(50, dtype=torch.long), normalize=(1, 2))
    with torch.no_grad():
        want = model((x - 1) / 2).double()
        assert torch.allclose(s.logits, want) and torch.allclose(s.unit(s.u).double(), want, atol=1e-5)
    assert float(s.u.min()) == 0 and float(s.u.max()) == 1


@pytest.mark.parametrize("model, y, error, message", [
    (Const(torch.full((20, 2), math.nan)), torch.zeros(20, dtype=torch.long), IncompatibleModelError, "NaN or inf"),
    (Const(torch.randn(20, 2)), torch.full((20,), 4), IncompatibleModelError, "labels go up to 4 but the model has 2"),
    (Const(torch.randn(20, 2, 2)), torch.zeros(20, dtype=torch.long), IncompatibleModelError, "expected float scores"),
    (nn.Linear(7, 2), torch.zeros(20, dtype=torch.long), IncompatibleModelError, r"model\(x\) raised RuntimeError"),
    ("not a model", torch.zeros(20, dtype=torch.long), IncompatibleModelError, "expected a torch.nn.Module"),
])
def test_bad_models_are_one_line(model, y, error, message):
    with pytest.raises(error, match=message) as info:
        build_subject(model, torch.rand(20, 4), y)
    assert "\n" not in str(info.value)


def test_too_few_inputs_are_refused():
    with pytest.raises(DataError, match="expected at least 10"):
        build_subject(nn.Linear(4, 2), torch.rand(5, 4), torch.zeros(5, dtype=torch.long))


@pytest.mark.parametrize("lo, hi, shape", [
    (torch.tensor([0.0, -1.0, 2.0]).view(3, 1, 1), torch.tensor([1.0, 1.0, 2.0]).view(3, 1, 1), (10, 3, 2, 2)),
    (torch.tensor([-0.5, 0.0, 0.0, 4.0]), torch.tensor([0.5, 2.0, 0.0, 9.0]), (7, 4)),  # an empty range: 0
    (torch.zeros(()), torch.ones(()), (5, 1, 3, 3)),  # (0, 1) but values outside it: clamped copy
])
def test_the_unit_box_is_the_formula_a_batch_at_a_time(lo, hi, shape):
    x = 3 * torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    bounds = Bounds(lo, hi, "given")
    expected = torch.where(hi - lo > 0, (x - lo) / (hi - lo).clamp_min(1e-30), 0.0).clamp(0, 1)  # the whole set
    for batch in (1, 3, 64):
        u = bounds.to_unit(x, batch=batch)
        assert u.dtype == expected.dtype and torch.equal(u, expected)


def test_inputs_already_in_the_unit_box_are_not_copied():
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    assert Bounds(torch.zeros(()), torch.ones(()), "given").to_unit(x, batch=4) is x
    assert Bounds(torch.zeros(()), torch.ones(()), "given").to_unit(torch.zeros(0, 2), batch=4).shape == (0, 2)
