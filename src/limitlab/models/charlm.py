"""Character language models of source code: the vocabulary, a character n-gram model, and sampling a
character LSTM (`SequenceLSTM` with `vocab_size`).

Shannon, Prediction and entropy of printed English, 1951 (character n-grams); Hochreiter & Schmidhuber
1997 (LSTM); Karpathy, The unreasonable effectiveness of recurrent neural networks, 2015 (character
LSTMs writing Linux source). Every sample starts from the same prime (a blank line, by default).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from limitlab._modelstate import frozen
from limitlab.cache import digest
from limitlab.context import Context
from limitlab.models.lstm import SequenceLSTM


class Vocab:
    """Characters <-> integer codes (the corpus is ASCII)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.table = np.zeros(128, dtype=np.int64)
        self.table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def encode(self, text: str) -> np.ndarray:
        return self.table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]

    def decode(self, codes: Sequence[int]) -> str:
        return "".join(self.chars[int(c)] for c in codes)


class NGram:
    """Character n-gram model: counts of (context, next) for every context length 0..order-1."""

    def __init__(self, codes: np.ndarray, vocab_size: int, order: int) -> None:
        self.v, self.order = vocab_size, order
        self.tables = []  # per context length: sorted unique keys context * V + next, and their counts
        for j in range(order):
            ctx_key = np.zeros(len(codes) - j, dtype=np.int64)
            for m in range(j):
                ctx_key = ctx_key * vocab_size + codes[m:len(codes) - j + m]
            keys, counts = np.unique(ctx_key * vocab_size + codes[j:], return_counts=True)
            self.tables.append((keys, counts))

    def sample(self, prime: np.ndarray, num_chars: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
        seq = list(prime)
        for _ in range(num_chars):
            for j in range(min(self.order - 1, len(seq)), -1, -1):  # longest context seen in the corpus
                key = 0
                for c in seq[len(seq) - j:]:
                    key = key * self.v + c
                keys, counts = self.tables[j]
                lo, hi = np.searchsorted(keys, [key * self.v, key * self.v + self.v])
                if hi > lo:
                    break
            weights = counts[lo:hi].astype(float) ** (1 / temperature)
            seq.append(int(keys[lo + rng.choice(hi - lo, p=weights / weights.sum())] % self.v))
        return np.array(seq[len(prime):])


@torch.no_grad()
def sample_lstm(model: SequenceLSTM, vocab: Vocab, *, num_samples: int, num_chars: int, temperature: float,
                generator: torch.Generator, prime: str = "\n\n") -> list[str]:
    """`num_samples` texts of `num_chars` characters, all in one batch, each after `prime`."""
    with frozen(model):
        x = torch.as_tensor(vocab.encode(prime)).repeat(num_samples, 1)
        out, state = model.step(x)
        codes = []
        for _ in range(num_chars):
            probs = torch.softmax(out[:, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)
            codes.append(nxt[:, 0])
            out, state = model.step(nxt, state)
    return [vocab.decode(row) for row in torch.stack(codes, 1).tolist()]


def train_lstm(model: SequenceLSTM, codes: np.ndarray, *, seq_len: int, batch_size: int, steps: int, lr: float,
               ctx: Context, corpus_digest: str, hidden: int) -> list[float]:
    """Train on random windows (truncated backpropagation through `seq_len` steps), or load from the cache."""
    key = digest("syntax-char-lstm", corpus_digest, dict(model.state_dict()), hidden, seq_len, batch_size, steps, lr,
                 ctx.seed)
    hit = ctx.cache.get(key)
    if hit is not None:
        model.load_state_dict(hit[0])
        return hit[1]["loss"]
    data, gen = torch.as_tensor(codes), ctx.generator("windows")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in ctx.progress.track(range(steps), description="train character LSTM"):
        starts = torch.randint(0, len(data) - seq_len - 1, (batch_size,), generator=gen)
        window = data[starts[:, None] + torch.arange(seq_len + 1)]
        loss = F.cross_entropy(model(window[:, :-1]).transpose(1, 2), window[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    ctx.cache.put(key, model.state_dict(), {"loss": losses})
    return losses
