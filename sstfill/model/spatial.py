"""Global mixing of the monthly patch tokens of a tile (docs/model.md#step-5)."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sstfill.model.dropout import Dropout, draws_uniform, dropout


class SpatialTransformer(nn.Module):
    """A stack of pre-norm Transformer encoder blocks over the H'*W' tokens of one month.

    docs/model.md#step-5: every patch attends to every other, so information from
    observed regions flows into cloud-covered ones. Pre-norm (norm_first) blocks train
    stably without warm-up; a final LayerNorm closes the residual stream.
    """

    def __init__(
        self,
        embed_dim: int = 64,
        num_heads: int = 4,
        depth: int = 2,
        mlp_ratio: float = 4.0,
        dropout: float = 0.1,
    ):
        super().__init__()
        layer = _EncoderLayer(
            d_model=embed_dim,
            nhead=num_heads,
            dim_feedforward=int(embed_dim * mlp_ratio),
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # Nested tensors only speed up key-padding masks, which are not used here.
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, tokens: Tensor) -> Tensor:
        """Mix tokens (B*M, H'*W', D), position encoding already added; same shape out."""
        return self.norm(self.encoder(tokens))


class _EncoderLayer(nn.TransformerEncoderLayer):
    """nn.TransformerEncoderLayer whose dropouts in training on CPU, the attention weights' included,
    draw their masks as sstfill.model.dropout does. Evaluation runs torch's layer unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.dropout.p
        self.dropout, self.dropout1, self.dropout2 = Dropout(p), Dropout(p), Dropout(p)

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False) -> Tensor:
        attention = self.self_attn
        if not draws_uniform(x, attention.dropout, self.training) or attn_mask is not None \
                or key_padding_mask is not None or not attention._qkv_same_embed_dim:
            return super()._sa_block(x, attn_mask, key_padding_mask, is_causal)
        # nn.MultiheadAttention's arithmetic (batch first, one input projection), written out to reach the dropout.
        b, n, c = x.shape
        heads = attention.num_heads
        q, k, v = F.linear(x, attention.in_proj_weight, attention.in_proj_bias).reshape(b, n, 3, heads, c // heads) \
            .permute(2, 0, 3, 1, 4)
        # Scaled before the product, as torch does: q holds head_dim / n as many values as the weights.
        weights = torch.softmax((q * (c // heads) ** -0.5) @ k.transpose(-2, -1), dim=-1)
        mixed = (dropout(weights, attention.dropout, True) @ v).transpose(1, 2).reshape(b, n, c)
        return self.dropout1(attention.out_proj(mixed))
