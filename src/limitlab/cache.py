"""On-disk cache of trained weights, keyed by a hash of everything that determines them.

Weights are stored as safetensors (never pickle) with a JSON sidecar (the training history);
both are written atomically, so an interrupted run never leaves a half-written entry. Parallel
workers that need the same model (the reference CNN, asked for by several studies at once) take a
per-key file lock, so one trains it and the others load it.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from limitlab._io import atomic_write_bytes
from limitlab.errors import OutputError


def default_cache_dir() -> Path:
    """`$LIMITLAB_CACHE_DIR`, else `~/.cache/limitlab`."""
    return Path(os.environ.get("LIMITLAB_CACHE_DIR") or Path.home() / ".cache" / "limitlab")


def digest(*parts: Any) -> str:
    """A stable sha256 over tensors, arrays, bytes and JSON-able values (dict order does not matter)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            t = part.detach().cpu().contiguous()
            h.update(f"tensor{t.dtype}{tuple(t.shape)}".encode())
            # reshape, not view: an (N, 1) tensor may have stride 0
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif hasattr(part, "tobytes") and hasattr(part, "dtype"):  # numpy array
            h.update(f"array{part.dtype}{part.shape}".encode())
            h.update(part.tobytes())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


class ModelCache:
    """`get(key)` -> (state_dict, meta) or None; `put(key, state_dict, meta)`. `enabled=False` never hits."""

    def __init__(self, root: str | Path | None = None, *, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        base = self.root / "models" / key[:2] / key
        return base.with_suffix(".safetensors"), base.with_suffix(".json")

    def get(self, key: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        weights, meta = self._paths(key)
        if not (self.enabled and weights.exists() and meta.exists()):
            self.misses += 1
            return None
        try:
            state, info = load_file(weights), json.loads(meta.read_text())
        except (SafetensorError, OSError, json.JSONDecodeError):
            self.misses += 1  # a corrupt entry is a miss: it will be retrained and overwritten
            return None
        self.hits += 1
        return state, info

    def miss(self) -> None:
        """Count an entry that was found but could not be used (e.g. weights of other shapes): retrained."""
        self.hits -= 1
        self.misses += 1

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold an exclusive lock on `key` (across processes on this machine) for get -> train -> put."""
        if not self.enabled:
            yield
            return
        path = self.root / "locks" / f"{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def check_writable(self) -> None:
        """An OutputError now, before any training, if entries cannot be written."""
        if not self.enabled:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.root / ".writable", b"")
        except OSError as err:
            raise OutputError(f"the model cache {self.root} is not writable ({err.strerror}); set "
                              "LIMITLAB_CACHE_DIR to a writable folder, or pass --no-cache") from None

    def put(self, key: str, state: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        if not self.enabled:
            return
        weights, meta_path = self._paths(key)
        tensors = {k: v.detach().cpu().clone().contiguous() for k, v in state.items()}
        try:
            from safetensors.torch import save

            atomic_write_bytes(weights, save(tensors))
            atomic_write_bytes(meta_path, json.dumps(meta).encode())
        except OSError as err:
            raise OutputError(
                f"cannot write the model cache at {self.root}: {err.strerror}; "
                "set LIMITLAB_CACHE_DIR to a writable folder"
            ) from None
