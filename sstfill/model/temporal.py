"""Attention pooling of daily tokens into monthly tokens (docs/model.md#step-3)."""

import torch
from torch import Tensor, nn

from sstfill.config import MAX_MONTH_DAYS
from sstfill.model.positional import TemporalPositionalEncoding

MONTHS_PER_YEAR = 12


def _score_mlp(embed_dim: int) -> nn.Sequential:
    """LayerNorm, Linear(D, D), GELU, Linear(D, 1): one scalar score per token (docs/model.md#step-3)."""
    return nn.Sequential(
        nn.LayerNorm(embed_dim),
        nn.Linear(embed_dim, embed_dim),
        nn.GELU(),
        nn.Linear(embed_dim, 1),
    )


class TemporalAttentionAggregator(nn.Module):
    """Pool the day tokens of each (patch, month) into one token, then let months talk.

    docs/model.md#step-3: the day tokens get the day-in-month and month-of-year codes, a
    learned scalar score per day, a softmax over the days and a weighted sum; then the months
    attend to each other (nn.MultiheadAttention), and a second score gates what each takes in:
    ``out = token + sigmoid(score) * attended``.

    Padded day slots (beyond the month's length) score -inf, so their weight is exactly zero.
    """

    def __init__(self, embed_dim: int = 64, num_heads: int = 4, max_days: int = MAX_MONTH_DAYS, dropout: float = 0.1):
        super().__init__()
        self.day_pe = TemporalPositionalEncoding(embed_dim, max_days)
        self.month_pe = TemporalPositionalEncoding(embed_dim, MONTHS_PER_YEAR)
        self.day_score = _score_mlp(embed_dim)
        self.month_attention = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, batch_first=True)
        self.month_gate = _score_mlp(embed_dim)

    def forward(
        self,
        tokens: Tensor,
        grid: tuple[int, int, int],
        padded_days_mask: Tensor,
        month_of_year: Tensor,
        return_weights: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Aggregate tokens (B, M*T'*H'*W', D) on grid (M*T', H', W') into (B, M, H'*W', D).

        padded_days_mask (B, M, days) is per day slot, with days a multiple of T'; a token is
        padded iff all the day slots it covers are. month_of_year (B, M) holds 0..11.
        With return_weights, also return the day weights (B, M, H'*W', T').
        """
        b, _, c = tokens.shape
        t_all, gh, gw = grid
        p = gh * gw
        m = month_of_year.shape[1]
        if padded_days_mask.shape[:2] != (b, m) or t_all % m:
            raise ValueError(
                f"expected padded_days_mask (B, M, days) = ({b}, {m}, days) and a token grid whose time "
                f"axis is a multiple of M; got {tuple(padded_days_mask.shape)} and grid {grid}"
            )
        t = t_all // m
        days = padded_days_mask.shape[2]
        if days % t:
            raise ValueError(f"{days} day slots per month cannot be split evenly into {t} tokens")
        padded = padded_days_mask.reshape(b, m, t, days // t).all(dim=-1)  # (B, M, T')
        if bool(padded.all(dim=-1).any()):
            raise ValueError("padded_days_mask marks every day slot of some month as padded; a month needs >= 1 day")

        seq = tokens.reshape(b, m, t, p, c).permute(0, 3, 1, 2, 4)  # (B, P, M, T', D)
        seq = seq + self.day_pe(t) + self.month_pe(month_of_year)[:, None, :, None, :]
        scores = self.day_score(seq).squeeze(-1)  # (B, P, M, T')
        scores = scores.masked_fill(padded[:, None], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        pooled = torch.einsum("bpmt,bpmtd->bpmd", weights, seq).reshape(b * p, m, c)

        attended, _ = self.month_attention(pooled, pooled, pooled, need_weights=False)
        out = pooled + torch.sigmoid(self.month_gate(attended)) * attended
        out = out.reshape(b, p, m, c).transpose(1, 2)  # (B, M, P, D)
        if return_weights:
            return out, weights.transpose(1, 2)
        return out
