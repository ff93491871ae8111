"""Patch embedding of a gappy daily video (docs/model.md#step-1: VideoEncoder)."""

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sstfill.model.dropout import Dropout

# Gaussian widths (pixels) of the daily neighbourhood channels; see DailyNeighbourhood.
NEIGHBOURHOOD_SIGMAS_PX = (2.0, 6.0)
# Gaussian widths (pixels) of the baseline structure channels; see BaselineStructure.
STRUCTURE_SIGMAS_PX = (1.0, 2.0, 4.0)


class DailyNeighbourhood(nn.Module):
    """Fixed (not learned) normalised convolution of each day, at a few spatial scales.

    docs/model.md#step-1a: a pixel's composite is wrong because of the days
    it was missing, and what it would have shown on those days is best told by its neighbours
    seen on the same day. The patch embedding only sees its own 4x4 pixels, and the days are
    pooled before any spatial mixing, so each day is given, per pixel, the Gaussian-weighted
    mean of that day's valid values around it and the weight behind that mean.
    """

    def __init__(self, sigmas_px: tuple[float, ...] = NEIGHBOURHOOD_SIGMAS_PX):
        super().__init__()
        for i, sigma in enumerate(sigmas_px):
            radius = max(1, math.ceil(2.5 * sigma))
            offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
            kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
            self.register_buffer(f"kernel_{i}", kernel / kernel.sum(), persistent=False)
        self.n_scales = len(sigmas_px)
        self._bands: dict[tuple, Tensor] = {}  # (scale, size, device, dtype) -> banded matrix: tiles repeat sizes

    @property
    def channels(self) -> int:
        return 2 * self.n_scales

    def _band(self, scale: int, n: int, like: Tensor) -> Tensor:
        key = (scale, n, like.device, like.dtype)
        if key not in self._bands:
            with torch.inference_mode(False):  # a cached tensor made under inference_mode would be refused in training
                self._bands[key] = _gaussian_band(getattr(self, f"kernel_{scale}").to(like.dtype), n)
        return self._bands[key]

    def forward(self, values: Tensor, valid: Tensor, out: Tensor | None = None) -> Tensor:
        """values, valid (B, 1, T, H, W) with values zero where not valid -> (B, 2 * scales, T, H, W),
        written into `out` when given (a view of a larger feature tensor spares a copy)."""
        b, _, t, h, w = values.shape
        if out is None:
            out = values.new_empty(b, self.channels, t, h, w)
        planes = torch.stack((values[:, 0], valid[:, 0]), dim=1)  # (B, 2, T, H, W)
        for i in range(self.n_scales):
            # The separable Gaussian (zero beyond the edges) as products with banded matrices: on CPU a
            # matrix product runs several times faster than a one-channel conv2d.
            smooth = self._band(i, h, planes) @ planes @ self._band(i, w, planes).T
            weight = out[:, 2 * i + 1].copy_(smooth[:, 1])
            torch.where(weight > 1e-3, smooth[:, 0] / weight.clamp_min(1e-3), weight.new_zeros(()), out=out[:, 2 * i])
        return out


def _gaussian_band(kernel: Tensor, n: int) -> Tensor:
    """(n, n) matrix whose product with a length-n signal is its convolution with the odd, symmetric
    kernel, zero-padded at both ends."""
    r = kernel.numel() // 2
    offsets = torch.arange(n, device=kernel.device)
    offsets = offsets[None, :] - offsets[:, None]
    return torch.where(offsets.abs() <= r, kernel[(offsets + r).clamp(0, 2 * r)], torch.zeros((), dtype=kernel.dtype,
                                                                                               device=kernel.device))


class BaselineStructure(nn.Module):
    """Fixed (not learned) local anomalies of the monthly baseline, at a few spatial scales.

    docs/model.md#step-1b: the daily inputs are anomalies from each pixel's
    own baseline, so on their own they show nothing of how a pixel's monthly composite
    differs from its neighbours' (a composite made noisy by few days, a front or an eddy that
    the gap fill flattened). Each scale gives the baseline minus its Gaussian-weighted mean
    over the ocean around (a normalised convolution), zero on land.
    """

    def __init__(self, sigmas_px: tuple[float, ...] = STRUCTURE_SIGMAS_PX):
        super().__init__()
        self.smooth = DailyNeighbourhood(sigmas_px)

    @property
    def channels(self) -> int:
        return self.smooth.n_scales

    def forward(self, baseline: Tensor, land: Tensor) -> Tensor:
        """baseline (B, M, H, W), any values on land; land (B, H, W) bool -> (B, scales, M, H, W)."""
        ocean = (~land)[:, None, None].expand(-1, 1, baseline.shape[1], -1, -1)
        values = torch.where(ocean, baseline[:, None], torch.zeros((), dtype=baseline.dtype, device=baseline.device))
        means = self.smooth(values, ocean.to(baseline.dtype))[:, 0::2]
        return torch.where(ocean, values - means, torch.zeros_like(means))


class VideoEncoder(nn.Module):
    """Cut a masked video into non-overlapping (Pt, Ph, Pw) patches, one token per patch.

    docs/model.md#step-1: masked pixels are removed but their locations kept. Missing values
    are replaced by zero with ``torch.where`` (not multiplied by the mask, which would let NaN
    through) and the validity mask rides along as a second channel, so a token knows both
    what was seen and where nothing was. The daily neighbourhood
    channels (DailyNeighbourhood) ride along too.
    """

    def __init__(self, patch_size: tuple[int, int, int] = (2, 4, 4), embed_dim: int = 64, dropout: float = 0.1,
                 monthly_channels: int = 0):
        super().__init__()
        self.patch_size = tuple(int(p) for p in patch_size)
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise ValueError(f"patch_size must be three positive ints (Pt, Ph, Pw), got {patch_size}")
        self.neighbourhood = DailyNeighbourhood()
        self.daily_channels = 2 + self.neighbourhood.channels
        # monthly: channels the caller gives one map per month (BaselineStructure), the same on each of its days
        self.in_channels = self.daily_channels + monthly_channels
        self.proj = nn.Conv3d(self.in_channels, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = nn.LayerNorm(embed_dim)
        # docs/model.md#step-1: the Conv3d embedding is linear in its inputs, and the temporal
        # pooling that follows is a weighted sum, so without a non-linearity here a token cannot
        # express products such as "this pixel was missing while its neighbours were warm".
        self.mlp = nn.Sequential(nn.Linear(embed_dim, 2 * embed_dim), nn.GELU(), nn.Linear(2 * embed_dim, embed_dim))
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        """Embed x (B, 1, T, H, W) with mask (True = missing) into tokens (B, T'*H'*W', D).

        T, H and W must be multiples of the patch size (the caller pads). Returns the tokens,
        ordered time-major then row-major, and the token grid (T', H', W').
        """
        return self.embed(self.daily_features(x, mask))

    def daily_features(self, x: Tensor, mask: Tensor) -> Tensor:
        """Per-pixel, per-day input channels (B, 2 + neighbourhood, T, H, W): value (0 where missing),
        validity, the daily neighbourhood means and weights. Each part is written into one tensor:
        no concatenation copies."""
        b, _, t, h, w = x.shape
        n = self.neighbourhood.channels
        # Channels-last in memory: the patch embedding's convolution is faster on CPU, its tokens and
        # PixelPath's pixel-days are then views rather than copies.
        features = x.new_empty(b, t, h, w, 2 + n).permute(0, 4, 1, 2, 3)
        features[:, 0:1] = torch.where(mask, torch.zeros((), dtype=x.dtype, device=x.device), x)
        features[:, 1:2] = ~mask
        self.neighbourhood(features[:, 0:1], features[:, 1:2], out=features[:, 2:2 + n])
        return features

    def embed(self, features: Tensor, monthly: Tensor | None = None) -> tuple[Tensor, tuple[int, int, int]]:
        """Tokens (B, T'*H'*W', D) and the token grid from daily_features and the monthly channels
        (B, E, M, H, W), if any, whose maps stand for each day slot of their month."""
        b, c, t, h, w = features.shape
        pt, ph, pw = self.patch_size
        if t % pt or h % ph or w % pw:
            raise ValueError(f"video (T, H, W) = {(t, h, w)} is not a multiple of the patch size {self.patch_size}")
        extra = 0 if monthly is None else monthly.shape[1]
        if c + extra != self.in_channels:
            raise ValueError(f"expected {self.in_channels} channels in all, got {c} daily and {extra} monthly")
        z = F.conv3d(features, self.proj.weight[:, :c], self.proj.bias, stride=self.patch_size)  # (B, D, T', H', W')
        if monthly is not None:
            # A monthly map is the same on every day slot of its month, and no patch spans two months, so
            # its share of the Conv3d is one 2-D convolution per month with the kernel summed over its days,
            # instead of one per day slot.
            m = monthly.shape[2]
            per_month = F.conv2d(monthly.transpose(1, 2).flatten(0, 1), self.proj.weight[:, c:].sum(2), stride=(ph, pw))
            z.unflatten(2, (m, -1)).add_(per_month.unflatten(0, (b, m)).transpose(1, 2)[:, :, :, None])
        grid = (z.shape[2], z.shape[3], z.shape[4])
        tokens = self.norm(z.flatten(2).transpose(1, 2))  # (B, N, D)
        return self.dropout(tokens + self.mlp(tokens)), grid


class PixelPath(nn.Module):
    """Per-pixel monthly features at full resolution, for the decoder's refinement block.

    docs/model.md#step-6a: the tokens summarise 4x4 pixels, so what a single pixel saw (how
    many days, which values, what its neighbours showed on the days it was cloudy) reaches
    the decoder only blurred by the patch. A pointwise MLP turns each pixel's daily features
    into ``channels`` values, averaged over the month's real days (padded days excluded).
    """

    def __init__(self, in_channels: int, channels: int = 16):
        super().__init__()
        self.channels = channels
        self.mlp = nn.Sequential(nn.Conv3d(in_channels, channels, 1), nn.GELU(), nn.Conv3d(channels, channels, 1))

    def forward(self, features: Tensor, real_days: Tensor, monthly: Tensor | None = None) -> Tensor:
        """features (B, C, M*D, H, W); real_days (B, M, D) bool; monthly (B, E, M, H, W), channels the same on
        each day of a month, given once per month (VideoEncoder.embed) -> (B*M, channels, H, W)."""
        b, c, _, h, w = features.shape
        m, d = real_days.shape[1:]
        (weight_1, bias_1), (weight_2, bias_2) = _linear(self.mlp[0]), _linear(self.mlp[2])
        # The 1x1x1 convolutions as matrix products over channels-last pixels (on CPU several times faster),
        # and the second one after the mean over days: it is linear, so the result is the same for a
        # fraction of the work. A month with no real day gives 0, as the mean of no days times any layer.
        # The monthly channels enter the first layer once per pixel-month, as a bias of its pixel.
        pixels = features.movedim(1, -1).reshape(b * m, d * h * w, c)  # one block of pixel-days per tile-month
        if monthly is None:
            base = bias_1.expand(b * m, h * w, self.channels)
        else:
            base = F.linear(monthly.permute(0, 2, 3, 4, 1).reshape(b * m, h * w, -1), weight_1[:, c:], bias_1)
        days = real_days.to(features.dtype)
        count = days.sum(-1, keepdim=True)
        share = (days / count.clamp_min(1.0)).reshape(b * m, d)
        gelu = cast(nn.GELU, self.mlp[1]).approximate
        mean = _DayMeanOfHidden.apply(pixels, share, weight_1[:, :c], base, gelu).reshape(b * m, h * w, self.channels)
        any_day = (count / count.clamp_min(1.0)).reshape(b * m, 1, 1)
        monthly_out = F.linear(mean, weight_2) + bias_2 * any_day
        return monthly_out.reshape(b * m, h, w, self.channels).permute(0, 3, 1, 2)  # channels-last, as the decoder's


class _DayMeanOfHidden(torch.autograd.Function):
    """PixelPath's first layer and its mean over days: share-weighted sum over days of
    GELU(pixels @ weight.T + base), one tile-month at a time.

    The hidden values of a whole batch (8 tiles x 31 days x 64 x 64 pixels x 16 channels, 65 MB)
    never exist at once: the backward pass recomputes each tile-month's from the inputs it
    keeps. Blocks that stay in the processor's cache make PixelPath's forward and backward about
    1.6 times as fast on CPU (docs/research.md#since-020), and one block reused for every
    tile-month, rather than new memory for each, faster again
    (docs/research.md#a-fifth-session-the-training-step)."""

    @staticmethod
    def forward(ctx, pixels: Tensor, share: Tensor, weight: Tensor, base: Tensor, gelu: str) -> Tensor:
        """pixels (N, D*P, C) channels-last pixel-days of N tile-months; share (N, D) day weights;
        weight (K, C); base (N, P, K), the bias of each pixel -> (N, P*K)."""
        pixels, weight, base, share = _autocast_dtype(pixels, weight, base, share)
        n, d = share.shape
        out = pixels.new_empty(n, base.shape[1] * base.shape[2])
        block = pixels.new_empty(d, out.shape[1])  # one tile-month's hidden values, reused: fresh memory is slow
        with torch.autocast(pixels.device.type, enabled=False):
            for i in range(n):
                torch.ops.aten.gelu_(_before_gelu(pixels[i], weight, base[i], out=block), approximate=gelu)
                torch.mm(share[i:i + 1], block, out=out[i:i + 1])
        ctx.gelu = gelu
        ctx.save_for_backward(pixels, share, weight, base)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        pixels, share, weight, base = ctx.saved_tensors
        grad_out = grad_out.to(pixels.dtype)
        grad_weight, grad_base = torch.zeros_like(weight), torch.empty_like(base)
        grad_pixels = torch.empty_like(pixels) if ctx.needs_input_grad[0] else None
        n, d = share.shape
        block = pixels.new_empty(d, grad_out.shape[1])
        with torch.autocast(pixels.device.type, enabled=False):
            for i in range(n):
                before = _before_gelu(pixels[i], weight, base[i], out=block)
                # The gradient of the hidden values is grad_out[i] on every day, times the day's share.
                torch.ops.aten.gelu_backward.grad_input(grad_out[i].expand_as(before), before, approximate=ctx.gelu,
                                                        grad_input=block)
                grad_before = block.mul_(share[i][:, None]).view(-1, weight.shape[0])  # (D*P, K)
                grad_weight += torch.mm(pixels[i].T, grad_before).T  # on CPU 3x faster than grad_before.T @ pixels
                grad_base[i] = grad_before.view(d, *base.shape[1:]).sum(0)
                if grad_pixels is not None:
                    torch.mm(grad_before, weight, out=grad_pixels[i])
        return grad_pixels, None, grad_weight, grad_base, None


def _before_gelu(pixels: Tensor, weight: Tensor, base: Tensor, out: Tensor) -> Tensor:
    """pixels (D*P, C) @ weight.T plus base (P, K) on each of the D days, written into out (D, P*K)."""
    torch.mm(pixels, weight.T, out=out.view(-1, weight.shape[0]))
    out.view(-1, *base.shape).add_(base)
    return out


def _autocast_dtype(*tensors: Tensor) -> list[Tensor]:
    """The tensors in the dtype autocast would compute a matrix product in (unchanged outside autocast)."""
    device = tensors[0].device.type
    if not torch.is_autocast_enabled(device):
        return list(tensors)
    dtype = torch.get_autocast_dtype(device)
    return [t.to(dtype) for t in tensors]


def _linear(conv: nn.Module) -> tuple[Tensor, Tensor]:
    """A 1x1x1 convolution with a bias as a linear layer: (weight (out, in), bias)."""
    conv = cast(nn.Conv3d, conv)
    return conv.weight.flatten(1), cast(Tensor, conv.bias)
