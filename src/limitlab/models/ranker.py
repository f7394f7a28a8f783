"""A small transformer encoder that scores each element of a set: here, its rank in sorted order.

Vaswani et al., Attention is all you need, NeurIPS 2017 (arXiv:1706.03762). With no positional
encoding the encoder is permutation-equivariant and reads sequences of any length: the output for an
element depends on the other elements, not on where they sit. `RankTransformer` maps values (B, n) to
one number per element (B, n), trained to be the element's fractional rank, rank / (n - 1).
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab.errors import ConfigError


class RankTransformer(nn.Module):
    """(B, n) values -> (B, n) scores; any n. Pre-norm encoder layers, no dropout, no positions."""

    def __init__(self, *, d_model: int = 32, num_heads: int = 4, num_layers: int = 2, dim_ff: int = 64) -> None:
        super().__init__()
        if d_model % num_heads or min(d_model, num_heads, num_layers, dim_ff) < 1:
            raise ConfigError(f"RankTransformer d_model={d_model}, num_heads={num_heads}; expected positive sizes "
                              "with d_model divisible by num_heads")
        self.embed = nn.Linear(1, d_model)
        layer = nn.TransformerEncoderLayer(d_model, num_heads, dim_ff, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(self.embed(x[..., None])))[..., 0]
