"""User arrays: every malformed input gets a one-line DataError that names the problem."""
import numpy as np
import pytest
import torch

from limitlab.data import digits, glyphs, load_arrays
from limitlab.errors import DataError


def save(tmp_path, **arrays):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    return path


def test_loads_valid_npz_pt_and_safetensors(tmp_path):
    x, y = np.random.rand(5, 1, 8, 8).astype(np.float32), np.arange(5)
    ds = load_arrays(save(tmp_path, x=x, y=y), num_classes=10)
    assert ds.x.shape == (5, 1, 8, 8) and ds.y.dtype == torch.int64 and ds.num_classes == 10
    torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, tmp_path / "d.pt")
    assert torch.equal(load_arrays(tmp_path / "d.pt").x, ds.x)
    from safetensors.torch import save_file
    save_file({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, tmp_path / "d.safetensors")
    assert torch.equal(load_arrays(tmp_path / "d.safetensors").y, ds.y)


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.full((3, 4), np.nan), "y": np.zeros(3, int)}, "NaN/Inf"),
    ({"x": np.random.rand(3, 4), "y": np.array([0, 1, 12])}, "labels range over 0..12; expected 0..9"),
    ({"x": np.random.rand(3, 4) * 255, "y": np.zeros(3, int)}, "outside the bounds"),
    ({"x": np.random.rand(3, 4), "y": np.zeros(2, int)}, r"expected shape \(3,\)"),
    ({"x": np.random.rand(3, 4), "y": np.zeros(3)}, "integer class labels"),
    ({"x": np.random.rand(3, 4)}, "missing y"),
    ({"x": np.array(["a", "b"]), "y": np.zeros(2, int)}, "numeric array"),
])
def test_bad_arrays(tmp_path, arrays, message):
    with pytest.raises(DataError, match=message):
        load_arrays(save(tmp_path, **arrays), num_classes=10)


def test_unreadable_and_unknown_files(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot be read"):
        load_arrays(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="no such file"):
        load_arrays(tmp_path / "missing.npz")
    with pytest.raises(DataError, match="unknown suffix"):
        load_arrays(tmp_path / "data.pkl")


def test_object_arrays_are_never_unpickled(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}], dtype=object), y=np.zeros(1, int))
    with pytest.raises(DataError, match="cannot be read"):
        load_arrays(tmp_path / "o.npz")


def test_digits_split_is_fixed_stratified_and_scaled():
    s = digits()
    assert (len(s.train), len(s.val), len(s.test)) == (1077, 360, 360)
    assert s.train.x.min() == 0 and s.train.x.max() == 1 and s.train.x.shape[1:] == (1, 8, 8)
    assert torch.bincount(s.test.y).tolist() == pytest.approx([36] * 10, abs=1)
    # sklearn's first digit is a 0 whose pixel (0, 2) is 5/16; find it in whichever split holds it
    all_x = torch.cat([s.train.x, s.val.x, s.test.x])
    assert ((all_x[:, 0, 0, 2] == 5 / 16) & (all_x[:, 0, 0, 3] == 13 / 16)).any()


def test_glyphs_are_digit_shaped_and_not_empty():
    g = glyphs()
    assert g.x.shape[1:] == (1, 8, 8) and g.x.min() >= 0 and g.x.max() <= 1
    assert (g.x.flatten(1).max(1).values == 1).all()  # every glyph has ink
    assert len(set(map(str, g.class_names)) & set("0123456789")) == 0
