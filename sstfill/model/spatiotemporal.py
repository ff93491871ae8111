"""The whole network: gappy daily SST in, gap-free monthly mean and log-variance out."""

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sstfill.config import MAX_MONTH_DAYS, ModelConfig, as_dict
from sstfill.model.decoder import MonthlyConvDecoder
from sstfill.model.encoder import BaselineStructure, PixelPath, VideoEncoder
from sstfill.model.positional import SpatialPositionalEncoding2D
from sstfill.model.spatial import SpatialTransformer
from sstfill.model.temporal import TemporalAttentionAggregator


class SpatioTemporalModel(nn.Module):
    """VideoEncoder -> TemporalAttentionAggregator -> SpatialTransformer -> MonthlyConvDecoder.

    It cuts the month's days into spatio-temporal patches, pools each patch's days into one
    monthly token, mixes the tokens across the tile and decodes them back to pixels
    (docs/model.md, one step per class).

    Any tile size and any number of months M >= 1 are accepted. The tile is padded at the
    bottom and right to a multiple of the patch (padding counts as missing and as land) and
    the output is cropped back. With Pt > 1 each month's day slots are padded separately to a
    multiple of Pt (the extra slots count as missing and as padded days), so a token never
    spans two months.

    The normalisation statistics travel with the weights as buffers (``input_mean``,
    ``input_std``, ``target_mean``, ``target_std``); ``forward`` itself takes normalised
    input and returns normalised output.
    """

    input_mean: Tensor
    input_std: Tensor
    target_mean: Tensor
    target_std: Tensor

    def __init__(self, *, max_days: int = MAX_MONTH_DAYS, **settings: Any):
        """settings: fields of ModelConfig, which checks them (its defaults for those left out);
        max_days: day slots per month (DataContract.max_days)."""
        super().__init__()
        self.settings = config = ModelConfig(**settings)
        self.max_days = int(max_days)
        self.patch_size = config.patch_size
        self.structure = BaselineStructure() if config.baseline_structure else None
        self.encoder = VideoEncoder(config.patch_size, config.embed_dim, config.dropout,
                                    monthly_channels=self.structure.channels if self.structure else 0)
        self.pixels = PixelPath(self.encoder.in_channels, config.pixel_channels) if config.pixel_channels else None
        self.temporal = TemporalAttentionAggregator(config.embed_dim, config.num_heads, self.max_days, config.dropout)
        self.spatial_pe = SpatialPositionalEncoding2D(config.embed_dim)
        self.spatial = SpatialTransformer(config.embed_dim, config.num_heads, config.depth, dropout=config.dropout)
        self.decoder = MonthlyConvDecoder(config.embed_dim, config.hidden, config.patch_size[1:], config.overlap,
                                          out_channels=2, skip_channels=config.pixel_channels)
        for name, value in (("input_mean", 0.0), ("input_std", 1.0), ("target_mean", 0.0), ("target_std", 1.0)):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float32))

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments as plain values: ``SpatioTemporalModel(**model.config)``."""
        return {**as_dict(self.settings), "max_days": self.max_days}

    def set_normalisation(
        self, input_mean: float, input_std: float, target_mean: float, target_std: float
    ) -> None:
        """Store the statistics used to normalise inputs and denormalise outputs."""
        for name, value in (
            ("input_mean", input_mean),
            ("input_std", input_std),
            ("target_mean", target_mean),
            ("target_std", target_std),
        ):
            value = float(value)
            if not math.isfinite(value) or (name.endswith("std") and value <= 0):
                raise ValueError(f"{name} must be finite{' and > 0' if name.endswith('std') else ''}, got {value}")
            getattr(self, name).fill_(value)

    def forward(
        self,
        x: Tensor,
        daily_mask: Tensor,
        padded_days_mask: Tensor,
        land_mask: Tensor,
        month_of_year: Tensor,
        baseline: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Predict the monthly mean and log-variance, each (B, M, H, W), exactly 0 on land.

        x (B, 1, M*D, H, W): normalised daily anomalies, month-major day slots; values where
        daily_mask (same shape, True = missing) is set have no influence, NaN included.
        padded_days_mask (B, M, D): True for slots beyond the month's length.
        land_mask (B, H, W): True = land. month_of_year (B, M): calendar month 0..11.
        baseline (B, M, H, W): what the anomalies are taken from, in kelvin (any constant
        offset, any values on land); needed when the model was built with baseline_structure.
        """
        b, m, days, h, w = self._check_inputs(x, daily_mask, padded_days_mask, land_mask, month_of_year)
        pt, ph, pw = self.patch_size
        pad_d, pad_h, pad_w = -days % pt, -h % ph, -w % pw

        # Missing = cloud, or padded day, or land; then pad days, rows, columns as missing.
        padded_days = padded_days_mask.bool()
        land = land_mask.bool()
        missing = (
            daily_mask.bool().reshape(b, 1, m, days, h, w)
            | padded_days[:, None, :, :, None, None]
            | land[:, None, None, None]
        )
        pad = (0, pad_w, 0, pad_h, 0, pad_d)
        x = F.pad(x.reshape(b, 1, m, days, h, w), pad, value=0.0).flatten(2, 3)
        missing = F.pad(missing, pad, value=True).flatten(2, 3)
        padded_days = F.pad(padded_days, (0, pad_d), value=True)
        land = F.pad(land, (0, pad_w, 0, pad_h), value=True)

        structure = None if self.structure is None else self._structure(self.structure, baseline, land, m)
        features = self.encoder.daily_features(x, missing)
        tokens, grid = self.encoder.embed(features, structure)
        skip = None if self.pixels is None else self.pixels(features, ~padded_days.reshape(b, m, -1), structure)
        monthly = self.temporal(tokens, grid, padded_days, month_of_year)  # (B, M, H'*W', D)
        gh, gw = grid[1], grid[2]
        monthly = monthly.flatten(0, 1) + self.spatial_pe(gh, gw, monthly.device).to(monthly.dtype)
        mixed = self.spatial(monthly)
        out = self.decoder(mixed, (gh, gw), land.repeat_interleave(m, dim=0), skip)  # (B*M, 2, H+, W+)
        out = out.reshape(b, m, 2, h + pad_h, w + pad_w)[..., :h, :w]
        return out[:, :, 0], out[:, :, 1]

    def _structure(self, layer: BaselineStructure, baseline: Tensor | None, land: Tensor, m: int) -> Tensor:
        """BaselineStructure of the (padded) tile in the units of x, one map per month: (B, S, M, H, W)."""
        b, h, w = land.shape
        if baseline is None or baseline.shape[:2] != (b, m) or baseline.shape[2] > h or baseline.shape[3] > w:
            raise ValueError(f"this model needs the baseline (B, M, H, W) with B={b}, M={m}, got "
                             f"{None if baseline is None else tuple(baseline.shape)}")
        ocean = (~land[:, None, :baseline.shape[2], :baseline.shape[3]]).expand_as(baseline)
        # Centre each tile on its ocean mean, so float32 keeps the small departures that matter.
        centre = torch.where(ocean, baseline, 0).sum((1, 2, 3)) / ocean.sum((1, 2, 3)).clamp_min(1)
        baseline = F.pad(baseline - centre[:, None, None, None], (0, w - baseline.shape[3], 0, h - baseline.shape[2]))
        return layer(baseline / self.input_std, land)  # land values dropped there

    @staticmethod
    def _check_inputs(
        x: Tensor, daily_mask: Tensor, padded_days_mask: Tensor, land_mask: Tensor, month_of_year: Tensor
    ) -> tuple[int, int, int, int, int]:
        """Check the data contract; return (B, M, D, H, W)."""
        if x.ndim != 5 or x.shape[1] != 1:
            raise ValueError(f"x must be (B, 1, M*D, H, W), got {tuple(x.shape)}")
        b, _, t, h, w = x.shape
        if month_of_year.ndim != 2 or month_of_year.shape[0] != b or month_of_year.shape[1] < 1:
            raise ValueError(f"month_of_year must be (B={b}, M>=1), got {tuple(month_of_year.shape)}")
        m = month_of_year.shape[1]
        if padded_days_mask.ndim != 3 or padded_days_mask.shape[:2] != (b, m) or padded_days_mask.shape[2] * m != t:
            raise ValueError(
                f"padded_days_mask must be (B, M, D) = ({b}, {m}, {t / m:g}) to match x with "
                f"{t} day slots, got {tuple(padded_days_mask.shape)}"
            )
        if daily_mask.shape != x.shape:
            raise ValueError(f"daily_mask must match x {tuple(x.shape)}, got {tuple(daily_mask.shape)}")
        if land_mask.shape != (b, h, w):
            raise ValueError(f"land_mask must be (B, H, W) = {(b, h, w)}, got {tuple(land_mask.shape)}")
        return b, m, t // m, h, w
