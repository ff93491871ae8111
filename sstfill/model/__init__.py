"""The seed architecture, one class per component (torch only, never xarray)."""

from sstfill.model.decoder import MonthlyConvDecoder
from sstfill.model.encoder import BaselineStructure, PixelPath, VideoEncoder
from sstfill.model.positional import SpatialPositionalEncoding2D, TemporalPositionalEncoding
from sstfill.model.spatial import SpatialTransformer
from sstfill.model.spatiotemporal import SpatioTemporalModel
from sstfill.model.temporal import TemporalAttentionAggregator

__all__ = [
    "BaselineStructure",
    "MonthlyConvDecoder",
    "PixelPath",
    "SpatialPositionalEncoding2D",
    "SpatialTransformer",
    "SpatioTemporalModel",
    "TemporalAttentionAggregator",
    "TemporalPositionalEncoding",
    "VideoEncoder",
]
