"""An LSTM over sequences (Hochreiter & Schmidhuber, Long short-term memory, Neural Computation 1997).

`SequenceLSTM` reads a sequence of vectors (or of token ids, with `vocab_size`) and emits one output
vector per step. `forward` returns only the outputs (what `fit` and a loss need); `step` also takes
and returns the recurrent state, for autoregressive rollouts and sampling one step at a time.
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab.errors import ConfigError

State = tuple[Tensor, Tensor]


class SequenceLSTM(nn.Module):
    """(B, L, in_features) floats, or (B, L) token ids if `vocab_size`, -> (B, L, out_features)."""

    def __init__(self, *, in_features: int, out_features: int, hidden: int = 64, num_layers: int = 1,
                 vocab_size: int | None = None) -> None:
        super().__init__()
        if min(in_features, out_features, hidden, num_layers) < 1:
            raise ConfigError(f"SequenceLSTM sizes in={in_features}, out={out_features}, hidden={hidden}, "
                              f"num_layers={num_layers}; expected all >= 1")
        self.embed = nn.Embedding(vocab_size, in_features) if vocab_size else None
        self.lstm = nn.LSTM(in_features, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, out_features)

    def step(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Outputs and the state after reading x (any length, possibly 1), starting from `state`."""
        h, state = self.lstm(self.embed(x) if self.embed is not None else x, state)
        return self.head(h), state

    def forward(self, x: Tensor) -> Tensor:
        return self.step(x)[0]
