"""Monte Carlo dropout: dropout kept on at test time as approximate Bayesian inference.

Gal, Ghahramani. Dropout as a Bayesian approximation: representing model uncertainty in deep
learning. ICML 2016, arXiv:1506.02142. T stochastic forward passes with dropout active sample the
approximate posterior predictive; their mean is the prediction and their spread the model
uncertainty. Every other layer stays in eval mode: batch norm uses (and does not update) its running
statistics.

Speed: the T passes are batched, not looped. The input is replicated k times along the batch
dimension (dropout draws an independent mask for every row, so a replica is an independent pass)
and run in chunks of about `chunk_rows` rows. One pass per call wastes time on per-call overhead
when N is small; one giant replicated batch is slower on a CPU than the loop (it leaves the caches);
`benchmarks/bench_uncertainty.py` measures both and the default chunk size.
"""
from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd

from limitlab._modelstate import frozen
from limitlab.errors import ConfigError, IncompatibleModelError

CHUNK_ROWS = 512  # rows per forward pass; see benchmarks/bench_uncertainty.py


def dropout_layers(model: nn.Module) -> list[nn.Module]:
    """The model's dropout modules with p > 0 (nn.Dropout, Dropout1d/2d/3d, AlphaDropout, ...)."""
    return [m for m in model.modules() if isinstance(m, _DropoutNd) and m.p > 0]


@torch.no_grad()
def mc_dropout(model: nn.Module, x: Tensor, *, samples: int, chunk_rows: int = CHUNK_ROWS,
               seed: int | None = None, softmax: bool = True) -> Tensor:
    """Softmax outputs of `samples` dropout passes, shape (samples, N, C); the model's modes are restored.

    `softmax=False` returns the raw outputs instead (regression, or logits). `seed` draws the dropout
    masks from a private stream seeded with it (the global torch generator is left as it was); without
    it they come from the global generator.
    """
    if samples < 1 or chunk_rows < 1:
        raise ConfigError(f"samples={samples}, chunk_rows={chunk_rows}; expected both >= 1")
    layers = dropout_layers(model)
    if not layers:
        raise IncompatibleModelError(f"{type(model).__name__} has no dropout layer with p > 0; MC dropout needs one "
                                     "(build the model with dropout, e.g. build('cnn', dropout=0.25))")
    n = len(x)
    per_chunk = max(1, chunk_rows // max(n, 1))
    rng = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with rng, frozen(model):
        if seed is not None:
            torch.manual_seed(seed)
        for layer in layers:
            layer.train()
        out = []
        for start in range(0, samples, per_chunk):
            k = min(per_chunk, samples - start)
            logits = model(x.repeat(k, *([1] * (x.dim() - 1))))
            out.append((torch.softmax(logits, dim=-1) if softmax else logits).view(k, n, -1))
    return torch.cat(out)
