"""Character models: the n-gram's counts and samples, training windows, and the character LSTM through fit."""
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from limitlab.cache import ModelCache
from limitlab.context import Context
from limitlab.models import TrainConfig
from limitlab.models.charlm import CharLSTM, NGram, Vocab, char_windows, sample_lstm, train_char_lstm


def test_ngram_counts_and_samples_what_it_saw():
    vocab = Vocab("abc")
    codes = vocab.encode("abcabcabcab")
    model = NGram(codes, 3, 3)
    keys, counts = model.tables[1]  # context length 1: pairs ab x4, bc x3, ca x3
    assert dict(zip(keys.tolist(), counts.tolist())) == {0 * 3 + 1: 4, 1 * 3 + 2: 3, 2 * 3 + 0: 3}
    out = model.sample(vocab.encode("ab"), 7, 1.0, np.random.default_rng(0))
    assert vocab.decode(out) == "cabcabc"  # every seen context has one continuation


def test_char_windows_pair_each_character_with_the_next():
    codes = np.arange(10)
    data = char_windows(codes, 4, name="w")
    assert data.x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] and data.y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_char_lstm_puts_classes_second_for_the_loss_and_learns_a_cycle(tmp_path: Path):
    vocab = Vocab("abc")
    codes = np.tile(vocab.encode("abc"), 200)  # a -> b -> c -> a: a character model learns this exactly
    torch.manual_seed(0)
    model = CharLSTM(3, hidden=16, embed=4)
    x = torch.as_tensor(codes[:8])[None]
    assert model(x).shape == (1, 3, 8) and model.step(x)[0].shape == (1, 8, 3)
    ctx = Context(cache=ModelCache(tmp_path))
    config = TrainConfig(epochs=8, batch_size=8, lr=1e-2, patience=2, eval_train=False)
    hist = train_char_lstm(model, codes, codes[:200], seq_len=16, config=config, ctx=ctx)
    assert hist.val_loss[hist.best_epoch] < 0.1 and hist.val_acc[hist.best_epoch] == 1.0  # fit's accuracy per char
    with torch.no_grad():
        assert float(F.cross_entropy(model(x[:, :-1]), x[:, 1:])) < 0.1
    texts = sample_lstm(model, vocab, num_samples=2, num_chars=6, temperature=0.5, generator=torch.Generator(),
                        prime="ab")
    assert texts == ["cabcab", "cabcab"]
    torch.manual_seed(0)
    again = CharLSTM(3, hidden=16, embed=4)
    assert train_char_lstm(again, codes, codes[:200], seq_len=16, config=config, ctx=ctx).cached  # fit's cache
