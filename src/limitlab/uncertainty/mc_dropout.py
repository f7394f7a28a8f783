"""Monte Carlo dropout: dropout kept on at test time as approximate Bayesian inference.

Gal, Ghahramani. Dropout as a Bayesian approximation: representing model uncertainty in deep
learning. ICML 2016, arXiv:1506.02142. T stochastic forward passes with dropout active sample the
approximate posterior predictive; their mean is the prediction and their spread the model
uncertainty. Every other layer stays in eval mode: batch norm uses (and does not update) its running
statistics.

Speed: the T passes are batched, not looped. The input is replicated k times along the batch dimension
(dropout draws an independent mask for every row, so a replica is an independent pass) and run in chunks
of about `chunk_rows` rows; more inputs than that go through `chunk_rows` at a time. One pass per call
wastes time on per-call overhead when N is small; one giant replicated batch is slower on a CPU than the
loop (it leaves the caches); `benchmarks/bench_uncertainty.py` measures both and the default chunk size.
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd

from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.errors import ConfigError, IncompatibleModelError

CHUNK_ROWS = 512  # rows per forward pass; see benchmarks/bench_uncertainty.py


def dropout_layers(model: nn.Module) -> list[nn.Module]:
    """The model's dropout modules with p > 0 (nn.Dropout, Dropout1d/2d/3d, AlphaDropout, ...)."""
    return [m for m in _checks.module(model).modules() if isinstance(m, _DropoutNd) and m.p > 0]


def _mask_stream(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    if seed is None:
        return _checks.as_generator(generator)
    if generator is not None:
        raise ConfigError(f"seed={seed!r} and generator= were both given; expected one: pass only generator=")
    warnings.warn("mc_dropout(seed=s) is deprecated; pass generator=torch.Generator().manual_seed(s) "
                  "(the same masks)", PendingDeprecationWarning, stacklevel=4)
    return torch.Generator().manual_seed(_checks.integer("seed", seed, low=0))


@torch.no_grad()
def mc_dropout(model: nn.Module, x: Tensor, *, samples: int, chunk_rows: int = CHUNK_ROWS, softmax: bool = True,
               generator: torch.Generator | None = None, seed: int | None = None) -> Tensor:
    """Softmax outputs of `samples` dropout passes, shape (samples, N, C); the model's modes are restored.

    `softmax=False` returns the raw outputs instead (regression, or logits). The dropout masks are drawn
    from `generator`'s stream (None: torch's global generator, as dropout does by default); the global
    stream is left as it was. `seed=s` is a deprecated alias of `generator=torch.Generator().manual_seed(s)`.
    """
    _checks.integer("samples", samples)
    _checks.integer("chunk_rows", chunk_rows)
    softmax = _checks.flag("softmax", softmax)
    layers = dropout_layers(model)
    if not layers:
        raise IncompatibleModelError(f"{type(model).__name__} has no dropout layer with p > 0; expected a model with "
                                     "dropout, which MC dropout needs (e.g. build('cnn', dropout=0.25))")
    x = _checks.tensor(x, "x", min_dim=2)
    stream = _mask_stream(generator, seed)
    n = len(x)
    per_chunk = max(1, chunk_rows // n)
    with _checks.global_stream(stream), frozen(model):
        for layer in layers:
            layer.train()
        out = []
        for start in range(0, samples, per_chunk):
            k = min(per_chunk, samples - start)
            parts = [_passes(model, x[i:i + chunk_rows], k, softmax) for i in range(0, n, chunk_rows)]
            out.append(torch.cat(parts, dim=1))
    return torch.cat(out)


def _passes(model: nn.Module, rows: Tensor, k: int, softmax: bool) -> Tensor:
    """k dropout passes over `rows` in one batch: (k, len(rows), C). A test set larger than a chunk goes
    through in chunks of rows, so memory stays flat in N."""
    m = len(rows)
    raw = model(rows.repeat(k, *([1] * (rows.dim() - 1))))
    if softmax:
        raw = torch.softmax(_checks.logits(raw, k * m, what="the model"), dim=-1)
    elif not isinstance(raw, Tensor) or len(raw) != k * m:
        raise IncompatibleModelError(f"the model returned {_checks.describe(raw)} for {k * m} inputs; "
                                     "expected one output row per input")
    return raw.view(k, m, -1)
