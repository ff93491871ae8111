"""Patch embedding of a gappy daily video (design doc, step 1: VideoEncoder)."""

import torch
from torch import Tensor, nn


class VideoEncoder(nn.Module):
    """Cut a masked video into non-overlapping (Pt, Ph, Pw) patches, one token per patch.

    Design doc, step 1: "Masked pixels are removed but their locations are preserved".
    Missing values are replaced by zero with ``torch.where`` (not multiplied by the mask,
    which would let NaN through) and the validity mask rides along as a second channel,
    so a token knows both what was seen and where nothing was.
    """

    def __init__(self, patch_size: tuple[int, int, int] = (1, 4, 4), embed_dim: int = 64, dropout: float = 0.1):
        super().__init__()
        self.patch_size = tuple(int(p) for p in patch_size)
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise ValueError(f"patch_size must be three positive ints (Pt, Ph, Pw), got {patch_size}")
        self.proj = nn.Conv3d(2, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = nn.LayerNorm(embed_dim)
        # Beyond the design doc: the Conv3d embedding is linear in (value, validity), and the
        # temporal pooling that follows is a weighted sum, so without a non-linearity here a
        # token cannot express "pixel p was missing while its neighbour q was warm" (a product
        # of validity and value), which is what corrects a composite biased by its gaps.
        self.mlp = nn.Sequential(nn.Linear(embed_dim, 2 * embed_dim), nn.GELU(), nn.Linear(2 * embed_dim, embed_dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        """Embed x (B, 1, T, H, W) with mask (True = missing) into tokens (B, T'*H'*W', D).

        T, H and W must be multiples of the patch size (the caller pads). Returns the tokens,
        ordered time-major then row-major, and the token grid (T', H', W').
        """
        _, _, t, h, w = x.shape
        pt, ph, pw = self.patch_size
        if t % pt or h % ph or w % pw:
            raise ValueError(f"video (T, H, W) = {(t, h, w)} is not a multiple of the patch size {self.patch_size}")
        valid = ~mask
        x_valid = torch.where(valid, x, torch.zeros((), dtype=x.dtype, device=x.device))
        z = self.proj(torch.cat((x_valid, valid.to(x.dtype)), dim=1))  # (B, D, T', H', W')
        grid = (z.shape[2], z.shape[3], z.shape[4])
        tokens = self.norm(z.flatten(2).transpose(1, 2))  # (B, N, D)
        return self.dropout(tokens + self.mlp(tokens)), grid
