"""From monthly patch tokens back to pixels: mean and log-variance (docs/model.md#step-6)."""

import torch
from torch import Tensor, nn

LOG_VAR_LIMIT = 10.0


class MonthlyConvDecoder(nn.Module):
    """Upsample (B*M, H'*W', D) tokens to (B*M, out_channels, H'*Ph, W'*Pw) maps.

    docs/model.md#step-6: 1x1 convolution, then a transposed convolution whose kernel reaches
    ``overlap`` pixels into each neighbour (kernel P + 2*overlap, stride P, padding overlap,
    so the output is exactly H'*Ph by W'*Pw), then a refinement block that smooths the patch
    boundaries, a 1x1 head, a learnable scale and bias on the mean (channel 0), and the
    land mask. Channel 1 is a log-variance, clamped to [-10, 10] so exp() stays finite.
    """

    def __init__(
        self,
        embed_dim: int = 64,
        hidden: int = 64,
        patch_hw: tuple[int, int] = (4, 4),
        overlap: int = 1,
        out_channels: int = 2,
        skip_channels: int = 0,
    ):
        super().__init__()
        ph, pw = (int(p) for p in patch_hw)
        self.patch_hw = (ph, pw)
        self.pointwise = nn.Conv2d(embed_dim, hidden, kernel_size=1)
        self.upsample = nn.ConvTranspose2d(
            hidden,
            hidden,
            kernel_size=(ph + 2 * overlap, pw + 2 * overlap),
            stride=(ph, pw),
            padding=(overlap, overlap),
        )
        self.refine = nn.Sequential(
            nn.Conv2d(hidden + skip_channels, hidden, kernel_size=3, padding=1),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
            nn.Conv2d(hidden, hidden, kernel_size=1),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
        )
        self.head = nn.Conv2d(hidden, out_channels, kernel_size=1)
        self.scale = nn.Parameter(torch.ones(()))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, tokens: Tensor, grid_hw: tuple[int, int], land_mask: Tensor | None = None,
                skip: Tensor | None = None) -> Tensor:
        """Decode tokens on the (H', W') grid; land_mask (B*M, H, W), True = land, zeroes every channel.

        skip (B*M, skip_channels, H, W): full-resolution features joined to the upsampled ones
        before the refinement block (see encoder.PixelPath).
        """
        n, _, c = tokens.shape
        gh, gw = grid_hw
        # Channels-last all through (the tokens already are, as a view): on CPU the convolutions run faster.
        z = self.upsample(self.pointwise(tokens.reshape(n, gh, gw, c).permute(0, 3, 1, 2)))
        if skip is not None:
            z = torch.cat((z, skip), dim=1)
        out = self.head(self.refine(z))
        mean = out[:, :1] * self.scale + self.bias
        log_var = out[:, 1:2].clamp(-LOG_VAR_LIMIT, LOG_VAR_LIMIT)  # empty if out_channels == 1
        out = torch.cat((mean, log_var, out[:, 2:]), dim=1)
        if land_mask is not None:
            out = torch.where(land_mask[:, None], torch.zeros((), dtype=out.dtype, device=out.device), out)
        return out
