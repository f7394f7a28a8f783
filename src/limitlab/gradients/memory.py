"""`saved_tensor_bytes()`: how many bytes autograd keeps for the backward pass.

Backpropagation stores the activations the chain rule will need, so its memory grows with depth
("Storage O(L)", source 004; Chen et al. 2018 make it O(1) with the adjoint method). This counts
that storage exactly with `torch.autograd.graph.saved_tensors_hooks`: every tensor an operation
saves is packed through our hook, and we add up the distinct storages (a tensor saved by two
operations, or a view of it, costs its memory once).

    with saved_tensor_bytes(exclude=model.parameters()) as saved:
        loss = model(x).sum()
    saved.bytes        # distinct bytes held for backward (parameters excluded)
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch

from limitlab.errors import ConfigTypeError


@dataclass
class SavedTensors:
    """What autograd saved inside the block: `bytes` (distinct storages), `packed_bytes` (with repeats)."""

    bytes: int = 0
    packed_bytes: int = 0
    count: int = 0
    _seen: dict[int, torch.UntypedStorage] = field(default_factory=dict, repr=False)


@contextlib.contextmanager
def saved_tensor_bytes(*, exclude: Iterable[torch.Tensor] = ()) -> Iterator[SavedTensors]:
    """Count the bytes autograd saves for backward in this block; storages of `exclude` are not counted.

    The tensors are saved unchanged (the hook returns them as is), so backward works as usual. The
    counter keeps a reference to each storage it saw until the block ends, so an address is never reused
    and counted as a new storage while the block runs.
    """
    saved = SavedTensors()
    exclude = list(exclude)
    if not all(isinstance(t, torch.Tensor) for t in exclude):
        raise ConfigTypeError(f"exclude holds {', '.join(sorted({type(t).__name__ for t in exclude}))}; expected "
                              "tensors, e.g. exclude=model.parameters()")
    skip = {t.untyped_storage().data_ptr() for t in exclude}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        saved.count += 1
        saved.packed_bytes += tensor.numel() * tensor.element_size()
        key = storage.data_ptr()
        if key not in skip and key not in saved._seen:
            saved._seen[key] = storage
            saved.bytes += storage.nbytes()
        return tensor

    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            yield saved
    finally:
        saved._seen.clear()
