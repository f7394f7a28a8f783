"""Loading a user's model: every bad input is one line, and nothing but a state dict is ever unpickled."""
import textwrap

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from limitlab.audit import load_model
from limitlab.errors import DataError, IncompatibleModelError

MODULE = """
import torch
from torch import nn

def build():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3))

def needs_args(width):
    return nn.Linear(4, width)

def not_a_module():
    return "a string"

def wider():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 5))

def raises():
    raise RuntimeError("no GPU here")

CONSTANT = 3
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "audit_user_nets.py").write_text(textwrap.dedent(MODULE))
    (tmp_path / "audit_broken_nets.py").write_text("import no_such_package_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_spec_and_weights_load_the_users_model(user_module):
    source = load_model("audit_user_nets:build")
    for suffix in (".safetensors", ".pt"):
        path = user_module / f"w{suffix}"
        save_file(source.state_dict(), path) if suffix == ".safetensors" else torch.save(source.state_dict(), path)
        model = load_model("audit_user_nets:build", path)
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), source.state_dict().values()))


@pytest.mark.parametrize("spec, error, message", [
    ("audit_user_nets.build", IncompatibleModelError, "is not of the form 'package.module:callable'"),
    ("no_such_pkg_xyz.nets:build", IncompatibleModelError, "cannot import module 'no_such_pkg_xyz.nets'"),
    ("audit_broken_nets:build", IncompatibleModelError, "importing 'audit_broken_nets' raised ModuleNotFoundError"),
    ("audit_user_nets:nope", IncompatibleModelError, "has no attribute 'nope'"),
    ("audit_user_nets:CONSTANT", IncompatibleModelError, "names a int, not a callable"),
    ("audit_user_nets:needs_args", IncompatibleModelError, "calling it with no arguments raised TypeError"),
    ("audit_user_nets:raises", IncompatibleModelError, "raised RuntimeError: no GPU here"),
    ("audit_user_nets:not_a_module", IncompatibleModelError, "returned a str; expected a torch.nn.Module"),
])
def test_bad_specs_are_one_line(user_module, spec, error, message):
    with pytest.raises(error) as info:
        load_model(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_weights_are_one_line(user_module):
    good = load_model("audit_user_nets:build").state_dict()
    save_file(load_model("audit_user_nets:wider").state_dict(), user_module / "wider.safetensors")
    save_file({"module." + k: v for k, v in good.items()}, user_module / "prefixed.safetensors")
    torch.save([1, 2, 3], user_module / "list.pt")
    torch.save({"weight": torch.zeros(2), "step": 3}, user_module / "mixed.pt")
    (user_module / "garbage.safetensors").write_bytes(b"not a safetensors file")
    (user_module / "w.h5").write_bytes(b"")
    cases = {
        "missing.safetensors": (DataError, "no such file"),
        "w.h5": (DataError, "unknown suffix '.h5'"),
        "garbage.safetensors": (DataError, "cannot be read as .safetensors"),
        "list.pt": (DataError, "holds a list; expected a state dict"),
        "mixed.pt": (DataError, "dict with non-tensor values"),
        "wider.safetensors": (IncompatibleModelError, "tensors have the wrong shape (first: '1.weight' is (5, 4)"),
        "prefixed.safetensors": (IncompatibleModelError, "strip that prefix"),
    }
    for name, (error, message) in cases.items():
        with pytest.raises(error) as info:
            load_model("audit_user_nets:build", user_module / name)
        assert message in str(info.value) and "\n" not in str(info.value), name


class Trap:
    """Unpickling this would create a file: proof that it ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_pickled_model_or_object_is_refused_without_running_it(user_module):
    torch.save(nn.Linear(4, 3), user_module / "whole_model.pt")
    marker = user_module / "ran.txt"
    torch.save({"weight": Trap(marker)}, user_module / "trap.pth")
    for name in ("whole_model.pt", "trap.pth"):
        with pytest.raises(DataError, match="holds pickled objects other than tensors") as info:
            load_model("audit_user_nets:build", user_module / name)
        assert "\n" not in str(info.value)
    assert not marker.exists()
