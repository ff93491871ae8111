"""Fixed sinusoidal position encodings: days and months in time, rows and columns in space.

docs/model.md#step-2 and #step-4: the encodings are fixed, with no learned parameters. The
tables are buffers with ``persistent=False``: rebuilt from the constructor, never saved, so a
checkpoint holds only what was learned.
"""

import math

import torch
from torch import Tensor, nn


def sinusoid_table(length: int, dim: int) -> Tensor:
    """Return the (length, dim) Transformer table: even columns sine, odd columns cosine."""
    if dim < 2 or dim % 2:
        raise ValueError(f"a sinusoid table needs an even dimension >= 2, got {dim}")
    position = torch.arange(length, dtype=torch.float64)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.float()


class TemporalPositionalEncoding(nn.Module):
    """One fixed vector per time index, so a token knows *when* it was observed.

    docs/model.md#step-2: row t of the precomputed table ``pe`` encodes time index t, and
    ``forward`` returns its first T rows. Also indexable by a tensor of positions, which the
    aggregator uses for the calendar month (0..11) of each month in the window.
    """

    pe: Tensor

    def __init__(self, embed_dim: int, max_len: int) -> None:
        super().__init__()
        if max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        self.embed_dim = embed_dim
        self.max_len = max_len
        self.register_buffer("pe", sinusoid_table(max_len, embed_dim), persistent=False)

    def forward(self, positions: int | Tensor) -> Tensor:
        """Return pe[:T] of shape (T, embed_dim) for an int T, or pe[positions] for a long tensor."""
        if isinstance(positions, int):
            if not 0 < positions <= self.max_len:
                raise ValueError(f"requested {positions} positions; this encoding holds 1..{self.max_len}")
            return self.pe[:positions]
        if positions.numel() and (int(positions.min()) < 0 or int(positions.max()) >= self.max_len):
            raise ValueError(
                f"positions must lie in 0..{self.max_len - 1}, "
                f"got {int(positions.min())}..{int(positions.max())}"
            )
        return self.pe[positions]


class SpatialPositionalEncoding2D(nn.Module):
    """Fixed 2-D sinusoid: the first half of the channels encodes the row, the second the column.

    docs/model.md#step-4: each spatial location (h, w) gets a unique vector of length embed_dim.
    Positions count from the tile's corner, not from the globe: the model runs on tiles cut
    anywhere in the world, so only relative layout within the tile is meaningful.
    """

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        if embed_dim % 4:
            raise ValueError(f"embed_dim must be divisible by 4 for a 2-D sinusoid, got {embed_dim}")
        self.embed_dim = embed_dim
        self._tables: dict[tuple, Tensor] = {}  # (height, width, device) -> table: tiles repeat sizes

    def forward(self, height: int, width: int, device: torch.device | None = None) -> Tensor:
        """Return the (height * width, embed_dim) encoding, row-major like the patch tokens."""
        key = (height, width, device)
        if key not in self._tables:
            half = self.embed_dim // 2
            with torch.inference_mode(False):  # a cached tensor made under inference_mode would be refused in training
                rows = sinusoid_table(height, half)[:, None, :].expand(height, width, half)
                cols = sinusoid_table(width, half)[None, :, :].expand(height, width, half)
                self._tables[key] = torch.cat((rows, cols), dim=-1).reshape(height * width, self.embed_dim).to(device)
        return self._tables[key]
