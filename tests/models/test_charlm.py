"""Character models: the n-gram's counts and samples, and the character LSTM's training cache."""
import time
from pathlib import Path

import numpy as np
import torch

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.models.charlm import NGram, Vocab, train_lstm
from limitlab.models.lstm import SequenceLSTM


def test_ngram_counts_and_samples_what_it_saw():
    vocab = Vocab("abc")
    codes = vocab.encode("abcabcabcab")
    model = NGram(codes, 3, 3)
    keys, counts = model.tables[1]  # context length 1: pairs ab x4, bc x3, ca x3
    assert dict(zip(keys.tolist(), counts.tolist())) == {0 * 3 + 1: 4, 1 * 3 + 2: 3, 2 * 3 + 0: 3}
    out = model.sample(vocab.encode("ab"), 7, 1.0, np.random.default_rng(0))
    assert vocab.decode(out) == "cabcabc"  # every seen context has one continuation


def test_character_lstm_is_cached_after_the_first_run(tmp_path: Path):
    vocab = Vocab("def f(x):\n    return x\n")
    codes = np.tile(vocab.encode("def f(x):\n    return x\n"), 20)
    ctx = Context(cache=ModelCache(tmp_path))
    models, losses = [], []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(SequenceLSTM(in_features=8, out_features=len(vocab.chars), hidden=8, vocab_size=len(vocab.chars)))
        start = time.perf_counter()
        losses.append(train_lstm(models[-1], codes, seq_len=16, batch_size=4, steps=5, lr=1e-2, ctx=ctx,
                                 corpus_digest="digest", hidden=8))
    assert ctx.cache.hits == 1 and losses[0] == losses[1] and len(losses[0]) == 5
    for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values()):
        torch.testing.assert_close(a, b)
    assert time.perf_counter() - start < 5
