"""Character language models of source code: the vocabulary, a character n-gram model, a character LSTM
(trained with `limitlab.models.fit` on `char_windows`) and sampling it.

Shannon, Prediction and entropy of printed English, 1951 (character n-grams); Hochreiter & Schmidhuber
1997 (LSTM); Karpathy, The unreasonable effectiveness of recurrent neural networks, 2015 (character
LSTMs writing Linux source). Every sample starts from the same prime (a blank line, by default).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from limitlab._modelstate import frozen
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.models.lstm import SequenceLSTM
from limitlab.models.train import History, TrainConfig, fit


class Vocab:
    """Characters <-> integer codes (the corpus is ASCII)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.table = np.zeros(128, dtype=np.int64)
        self.table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def encode(self, text: str) -> np.ndarray:
        return self.table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]

    def decode(self, codes: Iterable[int]) -> str:
        return "".join(self.chars[int(c)] for c in codes)


class CharLSTM(SequenceLSTM):
    """A character LSTM: codes (B, L) -> next-character logits with the class dimension second, (B, V, L), as
    `F.cross_entropy` and `fit`'s accuracy read them; `step` (for sampling) keeps (B, L, V)."""

    def __init__(self, vocab_size: int, *, hidden: int = 128, embed: int = 32) -> None:
        super().__init__(in_features=embed, out_features=vocab_size, hidden=hidden, vocab_size=vocab_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.step(x)[0].transpose(1, 2)


def char_windows(codes: np.ndarray, seq_len: int, *, name: str) -> ArrayDataset:
    """Consecutive, non-overlapping windows of `seq_len` codes (x) and the codes one later (y): next-character
    targets for teacher-forced training, truncated backpropagation through `seq_len` steps."""
    n = (len(codes) - 1) // seq_len
    data = torch.as_tensor(codes[:n * seq_len + 1])
    return ArrayDataset(data[:-1].view(n, seq_len), data[1:].reshape(n, seq_len), name=name)


def train_char_lstm(model: CharLSTM, codes: np.ndarray, held_out: np.ndarray, *, seq_len: int, config: TrainConfig,
                    ctx: Context) -> History:
    """Teacher-forced training on `char_windows(codes)` through `fit` (cached), with `held_out` windows as the
    validation set: with `config.patience`, training stops where the held-out loss stops falling (and keeps
    the best epoch's weights)."""
    return fit(model, char_windows(codes, seq_len, name="char-windows"), ctx=ctx, config=config,
               val=char_windows(held_out, seq_len, name="char-windows-held-out"), description="train character LSTM")


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

    def texts(self, vocab: Vocab, *, num_samples: int, num_chars: int, temperature: float, rng: np.random.Generator,
              prime: str = "\n\n") -> list[str]:
        """`num_samples` texts of `num_chars` characters, each after `prime` (the same interface as `sample_lstm`)."""
        return [vocab.decode(self.sample(vocab.encode(prime), num_chars, temperature, rng)) for _ in range(num_samples)]


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
