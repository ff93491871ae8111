"""Cutting a domain into overlapping tiles, and blending tile predictions back without seams.

The model sees fixed-size tiles; domains run from a small region to the globe. Tiles
overlap, and each prediction is weighted by a raised-cosine ramp near its edges, so
neighbouring tiles cross-fade instead of meeting at a visible seam. On a periodic x axis
(global longitude) tiles step around the circle and the last one wraps past the right
edge. Stitching holds two (C, H, W) float32 arrays, whatever the number of tiles.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """A window of the domain: rows y0 .. y0 + height, columns x0 .. x0 + width.

    On a periodic x axis, x0 + width may exceed the domain width: the tile wraps.
    """

    y0: int
    x0: int
    height: int
    width: int


def tile_grid(height: int, width: int, tile: int, overlap: int, *, periodic_x: bool = False) -> list[Tile]:
    """Cover a height x width domain with tiles of min(tile, height) x min(tile, width).

    Consecutive tiles overlap by at least `overlap` pixels. Non-periodic axes step by
    tile - overlap and the last tile is shifted back to end at the border. With
    periodic_x, the x starts are spread evenly around the circle (steps of at most
    tile - overlap, the wrap included) and the last tile may wrap past the right edge.
    Tiles are listed row by row.
    """
    if height < 1 or width < 1:
        raise ValueError(f"domain must be at least 1 x 1; got {height} x {width}")
    if tile < 1:
        raise ValueError(f"tile must be at least 1 pixel; got {tile}")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must satisfy 0 <= overlap < tile ({tile}); got {overlap}")
    tile_h, tile_w = min(tile, height), min(tile, width)
    step = tile - overlap
    ys = _starts(height, tile_h, step)
    xs = _periodic_starts(width, tile_w, step) if periodic_x else _starts(width, tile_w, step)
    return [Tile(y0, x0, tile_h, tile_w) for y0 in ys for x0 in xs]


OVERLAP_SHARE = 6
"""Tiles of the model's size overlap by 1 / OVERLAP_SHARE of it (10 pixels of 64), and blend over that
overlap: a sixth needs a fifth fewer tiles than a quarter did, at the same accuracy (docs/research.md)."""


def tile_overlap(tile: int) -> int:
    """How many pixels tiles of `tile` pixels overlap and blend over (OVERLAP_SHARE)."""
    return tile // OVERLAP_SHARE


def ocean_tiles(land: np.ndarray, tile: int, *, periodic_x: bool = False) -> list[Tile]:
    """The tiles of tile_grid (overlap tile_overlap) that hold any ocean (land False)."""
    height, width = land.shape
    return [t for t in tile_grid(height, width, tile, tile_overlap(tile), periodic_x=periodic_x)
            if not extract(land, t, periodic_x=periodic_x).all()]


def tile_mask(shape: tuple[int, int], tiles: list[Tile], *, periodic_x: bool = False) -> np.ndarray:
    """(H, W) bool, True on the pixels any of the tiles covers."""
    mask = np.zeros(shape, bool)
    for tile in tiles:
        for dst, _ in _column_pieces(tile, *shape, periodic_x):
            mask[tile.y0:tile.y0 + tile.height, dst] = True
    return mask


def blend_weights(height: int, width: int, overlap: int) -> np.ndarray:
    """(height, width) float32 weights: a raised-cosine ramp over `overlap` pixels from each edge, 1 inside.

    Weights are > 0 everywhere, so a pixel seen by one tile only keeps its value; where
    two tiles overlap by exactly `overlap` pixels their ramps sum to 1 (cos^2 + sin^2).
    """
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0; got {overlap}")
    return np.outer(_ramp(height, overlap), _ramp(width, overlap)).astype(np.float32)


def extract(array: np.ndarray, tile: Tile, *, periodic_x: bool = False) -> np.ndarray:
    """Cut a tile out of (..., H, W): a view, or a copy when it wraps past the right edge."""
    height, width = array.shape[-2:]
    rows = slice(tile.y0, tile.y0 + tile.height)
    pieces = _column_pieces(tile, height, width, periodic_x)
    if len(pieces) == 1:
        return array[..., rows, pieces[0][0]]
    return np.concatenate([array[..., rows, dst] for dst, _ in pieces], axis=-1)


class Stitcher:
    """Accumulates weighted tile predictions into a (C, H, W) field.

    Memory is two float32 arrays of the domain size (weighted sum and sum of weights),
    whatever the number of tiles (float32 suffices: a pixel sums a few tiles' values, and a
    global 0.05 degree month's arrays would take 830 MB in float64); result() is their ratio.
    """

    def __init__(self, channels: int, height: int, width: int, *, periodic_x: bool = False):
        self.shape = (channels, height, width)
        self.periodic_x = periodic_x
        self._sum = np.zeros(self.shape, dtype=np.float32)
        self._weight = np.zeros(self.shape, dtype=np.float32)

    def add(self, values: np.ndarray, tile: Tile, weights: np.ndarray) -> None:
        """Add (C, th, tw) values with (th, tw) weights at the tile; NaN values weigh zero."""
        expected = (self.shape[0], tile.height, tile.width)
        if values.shape != expected:
            raise ValueError(f"values must have shape {expected} for {tile}; got {values.shape}")
        if weights.shape != expected[1:]:
            raise ValueError(f"weights must have shape {expected[1:]} for {tile}; got {weights.shape}")
        if not np.all(weights >= 0):
            raise ValueError("weights must be finite and non-negative")
        valid = np.isfinite(values)
        weighted = np.where(valid, weights.astype(np.float32), np.float32(0))
        contribution = np.where(valid, values.astype(np.float32), np.float32(0)) * weighted
        rows = slice(tile.y0, tile.y0 + tile.height)
        for dst, src in _column_pieces(tile, self.shape[1], self.shape[2], self.periodic_x):
            self._sum[:, rows, dst] += contribution[:, :, src]
            self._weight[:, rows, dst] += weighted[:, :, src]

    def result(self) -> np.ndarray:
        """(C, H, W) float32 weighted mean; NaN where no tile contributed. Computed in the stitcher's own
        memory, so it takes no more, and the stitcher is spent."""
        out, weight = self._sum, self._weight
        with np.errstate(invalid="ignore"):  # 0 / 0 where no tile contributed: NaN, as documented
            out /= weight
        return out


def _starts(length: int, size: int, step: int) -> list[int]:
    """Starts every `step` pixels, the last one moved back so the tile ends at the border."""
    last = length - size
    starts = list(range(0, last, step))
    return [*starts, last]


def _periodic_starts(length: int, size: int, step: int) -> list[int]:
    """Starts spread evenly around a circle, no two (the wrap included) more than step apart."""
    if size >= length:
        return [0]
    count = -(-length // step)
    return [i * length // count for i in range(count)]


def _ramp(n: int, overlap: int) -> np.ndarray:
    """Raised cosine from near 0 at each end to 1 at `overlap` pixels in, sampled at pixel centres."""
    edge = np.minimum(np.arange(n), np.arange(n)[::-1]) + 0.5
    return np.where(edge < overlap, 0.5 - 0.5 * np.cos(np.pi * edge / max(overlap, 1)), 1.0)


def _column_pieces(tile: Tile, height: int, width: int, periodic_x: bool) -> list[tuple[slice, slice]]:
    """(domain columns, tile columns) slice pairs: one pair, or two when the tile wraps."""
    if tile.y0 < 0 or tile.y0 + tile.height > height or tile.height < 1:
        raise ValueError(f"{tile} does not fit in {height} rows")
    if tile.width < 1 or tile.width > width or not 0 <= tile.x0 < width:
        raise ValueError(f"{tile} does not fit in {width} columns")
    end = tile.x0 + tile.width
    if end <= width:
        return [(slice(tile.x0, end), slice(0, tile.width))]
    if not periodic_x:
        raise ValueError(f"{tile} runs past column {width}; only a periodic x axis wraps")
    inside = width - tile.x0
    return [(slice(tile.x0, width), slice(0, inside)), (slice(0, end - width), slice(inside, tile.width))]
