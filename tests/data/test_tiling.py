"""Tiling and seamless stitching (sstfill.data.tiling).

Each property is checked on a fixed set of seeded random layouts and, where hypothesis
(the `test` extra) is installed, on layouts that hypothesis draws.
"""

import itertools

import numpy as np
import pytest

from sstfill.data.tiling import Stitcher, Tile, blend_weights, extract, tile_grid

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # the seeded cases below still run
    given = None


def _seeded_layouts(count: int, seed: int = 0) -> list[tuple[int, int, int, int, bool]]:
    """(height, width, tile, overlap, periodic_x), tiles often larger than the domain."""
    rng = np.random.default_rng(seed)
    layouts = [(1, 1, 1, 0, False), (1, 1, 5, 4, True), (5, 7, 64, 8, True), (64, 64, 64, 0, True),
               (10, 130, 16, 15, True), (33, 65, 32, 31, False), (3, 200, 64, 16, True)]
    while len(layouts) < count:
        tile = int(rng.integers(1, 49))
        layouts.append((int(rng.integers(1, 121)), int(rng.integers(1, 121)), tile,
                        int(rng.integers(0, tile)), bool(rng.integers(0, 2))))
    return layouts


LAYOUTS = _seeded_layouts(120)


def check_coverage(height, width, tile, overlap, periodic_x):
    tiles = tile_grid(height, width, tile, overlap, periodic_x=periodic_x)
    seen = np.zeros((height, width), dtype=int)
    for t in tiles:
        assert (t.height, t.width) == (min(tile, height), min(tile, width))
        assert t.y0 >= 0 and t.y0 + t.height <= height
        assert 0 <= t.x0 < width
        assert periodic_x or t.x0 + t.width <= width
        seen[t.y0 : t.y0 + t.height, (t.x0 + np.arange(t.width)) % width] += 1
    assert seen.min() >= 1


def check_overlap(height, width, tile, overlap, periodic_x):
    tiles = tile_grid(height, width, tile, overlap, periodic_x=periodic_x)
    ys, xs = sorted({t.y0 for t in tiles}), sorted({t.x0 for t in tiles})
    assert len(tiles) == len(ys) * len(xs)
    th, tw = tiles[0].height, tiles[0].width
    assert all(a + th - b >= overlap for a, b in itertools.pairwise(ys))
    assert all(a + tw - b >= overlap for a, b in itertools.pairwise(xs))
    if periodic_x and len(xs) > 1:
        assert xs[-1] + tw - width - xs[0] >= overlap  # across the wrap


def check_round_trip(height, width, tile, overlap, periodic_x, seed=0):
    field = (15 + 10 * np.random.default_rng(seed).standard_normal((2, height, width))).astype(np.float32)
    stitcher = Stitcher(2, height, width, periodic_x=periodic_x)
    for t in tile_grid(height, width, tile, overlap, periodic_x=periodic_x):
        patch = extract(field, t, periodic_x=periodic_x)
        stitcher.add(patch, t, blend_weights(t.height, t.width, overlap))
    result = stitcher.result()
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, field, rtol=1e-5, atol=1e-5)  # float32 sums of up to dozens of tiles


def check_blend_weights(height, width, overlap):
    w = blend_weights(height, width, overlap)
    assert w.shape == (height, width) and w.dtype == np.float32
    assert (w > 0).all() and (w <= 1).all()
    np.testing.assert_array_equal(w, w[::-1, :])
    np.testing.assert_array_equal(w, w[:, ::-1])
    np.testing.assert_array_equal(w[overlap : height - overlap, overlap : width - overlap], 1.0)


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_every_pixel_is_covered(layout):
    check_coverage(*layout)


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_neighbours_overlap(layout):
    check_overlap(*layout)


@pytest.mark.parametrize("layout", LAYOUTS[:60], ids=str)
def test_extract_stitch_round_trip(layout):
    check_round_trip(*layout)


@pytest.mark.parametrize("seed", range(20))
def test_blend_weights_positive_and_symmetric(seed):
    rng = np.random.default_rng(seed)
    check_blend_weights(int(rng.integers(1, 80)), int(rng.integers(1, 80)), int(rng.integers(0, 40)))


if given is not None:

    @st.composite
    def layouts(draw):
        tile = draw(st.integers(1, 48))
        return (draw(st.integers(1, 120)), draw(st.integers(1, 120)), tile,
                draw(st.integers(0, tile - 1)), draw(st.booleans()))

    @settings(max_examples=60, deadline=None)
    @given(layouts())
    def test_coverage_and_overlap_hypothesis(layout):
        check_coverage(*layout)
        check_overlap(*layout)

    @settings(max_examples=40, deadline=None)
    @given(layouts(), st.integers(0, 2**32 - 1))
    def test_round_trip_hypothesis(layout, seed):
        check_round_trip(*layout, seed=seed)

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 80), st.integers(1, 80), st.integers(0, 40))
    def test_blend_weights_hypothesis(height, width, overlap):
        check_blend_weights(height, width, overlap)


def test_blend_ramps_cross_fade_to_one():
    overlap, size = 8, 32
    row = blend_weights(size, size, overlap)[size // 2]
    # the next tile starts `overlap` pixels before this one ends: weights sum to 1
    np.testing.assert_allclose(row[size - overlap :] + row[:overlap], 1.0, atol=1e-6)
    np.testing.assert_array_equal(blend_weights(4, 6, 0), 1.0)


def test_periodic_tile_wraps_onto_the_left_columns():
    field = np.tile(np.arange(10, dtype=np.float32), (2, 4, 1))
    tile = Tile(0, 8, 4, 4)
    np.testing.assert_array_equal(extract(field, tile, periodic_x=True)[0, 0], [8, 9, 0, 1])
    stitcher = Stitcher(2, 4, 10, periodic_x=True)
    stitcher.add(np.full((2, 4, 4), 7.0, dtype=np.float32), tile, np.ones((4, 4), dtype=np.float32))
    result = stitcher.result()
    np.testing.assert_array_equal(result[:, :, [8, 9, 0, 1]], 7.0)
    assert np.isnan(result[:, :, 2:8]).all()
    with pytest.raises(ValueError, match="periodic"):
        Stitcher(2, 4, 10).add(np.zeros((2, 4, 4)), tile, np.ones((4, 4)))
    with pytest.raises(ValueError, match="periodic"):
        extract(field, tile)


def test_periodic_grid_has_a_wrapping_tile():
    tiles = tile_grid(8, 100, 32, 8, periodic_x=True)
    assert any(t.x0 + t.width > 100 for t in tiles)
    assert all(t.x0 + t.width <= 100 for t in tile_grid(8, 100, 32, 8))


def test_nan_values_weigh_nothing():
    stitcher = Stitcher(1, 4, 6)
    left, right = Tile(0, 0, 4, 4), Tile(0, 2, 4, 4)
    a = np.full((1, 4, 4), 1.0)
    a[0, :, 2:] = np.nan  # where the tiles overlap, only `right` speaks
    a[0, 0, 0] = np.nan  # and here nobody does
    stitcher.add(a, left, np.ones((4, 4)))
    stitcher.add(np.full((1, 4, 4), 3.0), right, np.ones((4, 4)))
    result = stitcher.result()[0]
    np.testing.assert_array_equal(result[:, 2:], 3.0)
    np.testing.assert_array_equal(result[1:, :2], 1.0)
    assert np.isnan(result[0, 0])


def _max_jump(field):
    return max(np.abs(np.diff(field, axis=-2)).max(), np.abs(np.diff(field, axis=-1)).max())


def test_blending_hides_seams():
    # Each tile carries its own constant error, as a model's tiles would: cross-fading
    # must spread the step over the overlap instead of leaving it at the tile edge.
    height, width, tile, overlap = 96, 256, 64, 16
    y, x = np.mgrid[0:height, 0:width]
    field = (np.sin(2 * np.pi * x / width) + np.cos(2 * np.pi * y / height))[None].astype(np.float32)
    tiles = tile_grid(height, width, tile, overlap, periodic_x=True)
    offsets = np.random.default_rng(3).uniform(-1, 1, len(tiles))
    ramp, flat = Stitcher(1, height, width, periodic_x=True), Stitcher(1, height, width, periodic_x=True)
    for t, offset in zip(tiles, offsets, strict=True):
        patch = extract(field, t, periodic_x=True) + offset
        ramp.add(patch, t, blend_weights(tile, tile, overlap))
        flat.add(patch, t, np.ones((tile, tile), dtype=np.float32))
    smooth = _max_jump(field)
    hard, blended = _max_jump(flat.result()) - smooth, _max_jump(ramp.result()) - smooth
    assert hard > 0.3
    assert blended < 0.2 * hard, (hard, blended)


@pytest.mark.parametrize(("tile", "overlap"), [(8, 8), (8, 9), (8, -1), (0, 0)])
def test_bad_tile_or_overlap(tile, overlap):
    with pytest.raises(ValueError, match=r"tile must be at least 1 pixel|overlap must satisfy"):
        tile_grid(20, 20, tile, overlap)


def test_bad_shapes_and_weights():
    stitcher = Stitcher(1, 8, 8)
    t = Tile(0, 0, 4, 4)
    with pytest.raises(ValueError, match="shape"):
        stitcher.add(np.zeros((2, 4, 4)), t, np.ones((4, 4)))
    with pytest.raises(ValueError, match="shape"):
        stitcher.add(np.zeros((1, 4, 4)), t, np.ones((4, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        stitcher.add(np.zeros((1, 4, 4)), t, -np.ones((4, 4)))
    with pytest.raises(ValueError, match="overlap must be >= 0"):
        blend_weights(4, 4, -1)
    with pytest.raises(ValueError, match="rows"):
        stitcher.add(np.zeros((1, 4, 4)), Tile(6, 0, 4, 4), np.ones((4, 4)))
