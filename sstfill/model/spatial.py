"""Global mixing of the monthly patch tokens of a tile (docs/model.md#step-5)."""

from torch import Tensor, nn


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
        layer = nn.TransformerEncoderLayer(
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
