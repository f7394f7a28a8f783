"""The shared checks (limitlab._checks): the probability rule at its tolerance, option ranges, the
generator adapter and the global-stream bridge, with hand-worked values."""
import numpy as np
import pytest
import torch
from torch import nn

from limitlab import _checks
from limitlab.errors import ConfigError, ConfigTypeError, DataError, DataTypeError


def test_probability_rows_within_the_tolerance_pass_and_beyond_it_fail():
    ok = torch.tensor([[0.5, 0.5 + 0.9e-3], [1.0, 0.0]], dtype=torch.float64)
    assert _checks.probs(ok) is ok
    with pytest.raises(DataError, match=r"row sums in \[1\.0011, 1\.0011\]"):
        _checks.probs(torch.tensor([[0.5, 0.5 + 1.1e-3]], dtype=torch.float64))
    with pytest.raises(DataError, match=r"entries in \[-1e-06, 1\]"):
        _checks.probs(torch.tensor([[1.0 + 1e-6, -1e-6]], dtype=torch.float64))  # sums to 1, one entry < 0


def test_one_rule_for_calibration_and_uncertainty():
    from limitlab.calibration import ece
    from limitlab.uncertainty import predictive_entropy
    bad = torch.tensor([[0.6, 0.6]])  # sums to 1.2: both packages refuse it with the same message
    messages = []
    for call in (lambda: ece(bad, torch.tensor([0])), lambda: predictive_entropy(bad)):
        with pytest.raises(DataError) as info:
            call()
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "row sums in [1.2, 1.2]" in messages[0]


def test_labels_checked_against_the_number_of_classes():
    p = torch.full((3, 4), 0.25)
    _checks.probs(p, y=torch.tensor([0, 3, 2]))
    with pytest.raises(DataError, match=r"labels 0\.\.4; expected class labels in 0\.\.3 \(4 classes\)"):
        _checks.probs(p, y=torch.tensor([0, 4, 2]))
    with pytest.raises(DataError, match="dtype torch.bool"):
        _checks.labels(torch.tensor([True, False]), 2)


@pytest.mark.parametrize("value,kw,ok", [
    (0, dict(low=0), True), (-1e-12, dict(low=0), False), (1.0, dict(low=0, high=1), True),
    (1.0, dict(low=0, high=1, high_open=True), False), (0.0, dict(low=0, low_open=True), False),
    (np.float32(0.5), dict(low=0), True), (float("inf"), {}, False), (float("nan"), {}, False),
])
def test_number_ranges(value, kw, ok):
    if ok:
        assert _checks.number("v", value, **kw) == float(value)
    else:
        with pytest.raises(ConfigError, match="expected a finite number"):
            _checks.number("v", value, **kw)


def test_integers_are_ints_not_bools_or_floats():
    assert _checks.integer("k", np.int64(3)) == 3
    for bad in (True, 3.0, "3"):
        with pytest.raises(ConfigTypeError):
            _checks.integer("k", bad)
    with pytest.raises(ConfigError, match=r"k=5; expected an integer in \[1, 4\]"):
        _checks.integer("k", 5, high=4)


def test_wrong_types_are_also_type_errors():
    with pytest.raises(TypeError):
        _checks.tensor(np.zeros((2, 3)), "x")
    with pytest.raises(ValueError):  # and still ValueErrors, as every DataError
        _checks.tensor(np.zeros((2, 3)), "x")
    assert issubclass(DataTypeError, DataError) and issubclass(ConfigTypeError, ConfigError)


def test_a_long_value_is_described_not_dumped():
    with pytest.raises(ConfigTypeError) as info:
        _checks.number("eps", torch.rand(50))
    assert "eps=a tensor of shape (50,)" in str(info.value) and "\n" not in str(info.value)


def test_none_means_the_global_generator():
    assert _checks.as_generator(None) is torch.default_generator
    g = torch.Generator()
    assert _checks.as_generator(g) is g
    with pytest.raises(ConfigTypeError, match=r"generator=7 \(int\); expected a torch.Generator or None"):
        _checks.as_generator(7)


def test_global_stream_draws_what_seeding_the_global_generator_drew_and_advances_the_generator():
    g = torch.Generator().manual_seed(3)
    state = torch.get_rng_state()
    with _checks.global_stream(g):
        inside, masks = torch.rand(5), nn.Dropout(0.5).train()(torch.ones(100))
    after = torch.rand(3, generator=g)
    assert torch.equal(torch.get_rng_state(), state)  # the global stream is untouched
    torch.manual_seed(3)  # the old route: seed the global generator itself
    want_inside, want_masks, want_after = torch.rand(5), nn.Dropout(0.5).train()(torch.ones(100)), torch.rand(3)
    assert torch.equal(inside, want_inside) and torch.equal(masks, want_masks)
    assert torch.equal(after, want_after)  # g continues exactly where the block left the stream


def test_global_stream_with_the_global_generator_uses_it_as_is():
    torch.manual_seed(1)
    with _checks.global_stream(torch.default_generator):
        a = torch.rand(4)
    b = torch.rand(4)
    torch.manual_seed(1)
    assert torch.equal(torch.cat([a, b]), torch.rand(8))
