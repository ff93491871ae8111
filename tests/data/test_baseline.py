"""Monthly composite and normalised-convolution gap filling (sstfill.data.baseline)."""

import warnings

import numpy as np
import pytest

from sstfill.config import fill_sigma_px
from sstfill.data.baseline import composite, fill_gaps, monthly_baseline

NAN = np.nan


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _gappy(shape=(60, 90), gap_fraction=0.6, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    field = (15 + 5 * rng.standard_normal(shape)).astype(dtype)
    field[rng.random(shape) < gap_fraction] = NAN
    ocean = np.ones(shape, dtype=bool)
    ocean[10:25, 30:50] = False
    return field, ocean


def test_composite_hand_made():
    days = np.array(
        [
            [[1.0, NAN, 5.0], [NAN, 2.0, np.inf]],
            [[3.0, NAN, NAN], [NAN, NAN, NAN]],
            [[NAN, NAN, NAN], [4.0, 6.0, NAN]],
        ],
        dtype=np.float32,
    )
    mean, count = composite(days)
    np.testing.assert_array_equal(count, [[2, 0, 1], [1, 2, 0]])
    np.testing.assert_array_equal(mean, [[2.0, NAN, 5.0], [4.0, 4.0, NAN]])
    assert count.dtype == np.int32
    assert mean.dtype == np.float32


def test_composite_all_nan_and_shape_check():
    mean, count = composite(np.full((4, 3, 2), NAN))
    assert np.isnan(mean).all() and (count == 0).all()
    with pytest.raises(ValueError, match="3-D"):
        composite(np.zeros((3, 2)))


@pytest.mark.parametrize("periodic_x", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_keeps_valid_fills_ocean_and_leaves_land_nan(periodic_x, dtype):
    field, ocean = _gappy(dtype=dtype)
    out = fill_gaps(field, ocean, periodic_x=periodic_x)
    valid = ocean & np.isfinite(field)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out[valid], field[valid])
    assert np.isfinite(out[ocean]).all()
    assert np.isnan(out[~ocean]).all()
    lo, hi = field[valid].min(), field[valid].max()
    assert lo <= out[ocean].min() and out[ocean].max() <= hi  # a weighted mean of valid values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("periodic_x", [False, True])
def test_constant_field_stays_constant(dtype, periodic_x):
    field, ocean = _gappy(shape=(120, 200), dtype=dtype)
    field[np.isfinite(field)] = 28.7
    field[30:110, 60:190] = NAN  # a hole far wider than sigma: filled through the coarse passes
    out = fill_gaps(field, ocean, periodic_x=periodic_x)
    np.testing.assert_allclose(out[ocean], dtype(28.7), rtol=0, atol=1e-6)


def test_linear_gradient_hole_is_filled_between_its_neighbours():
    height, width, sigma = 64, 100, 2.0
    y, x = np.mgrid[0:height, 0:width]
    truth = 0.1 * x
    hole = (y >= 20) & (y < 30) & (x >= 40) & (x < 60)
    field = np.where(hole, NAN, truth)
    filled = fill_gaps(field, np.ones_like(hole), sigma_px=sigma)[20:30, 40:60]
    # A normalised convolution averages over its kernel, so a pixel at the hole's edge
    # leans towards the valid pixels beside it: bound by the values 2 sigma out.
    reach = int(2 * sigma)
    assert truth[0, 40 - reach] < filled.min() and filled.max() < truth[0, 59 + reach]
    assert (np.diff(filled, axis=1) > 0).all()  # the gradient's direction survives
    assert filled.mean() == pytest.approx(truth[hole].mean(), abs=1e-9)  # symmetric hole


def test_periodic_x_fills_column_zero_from_the_last_columns():
    field = np.zeros((30, 50))
    field[:, 40:] = 10.0
    field[:, :4] = NAN
    ocean = np.ones(field.shape, dtype=bool)
    flat = fill_gaps(field, ocean, periodic_x=False)
    wrapped = fill_gaps(field, ocean, periodic_x=True)
    np.testing.assert_allclose(flat[:, :4], 0.0, atol=1e-12)  # only the zeros to its right
    assert (wrapped[:, 0] > 1.0).all()  # x = 49 is next door
    assert (wrapped[:, 0] > wrapped[:, 3]).all()


def test_periodic_fill_across_the_seam_is_symmetric():
    # A field symmetric about the seam, with a wide hole straddling it: the wrapped fill
    # must be symmetric too, through the fine and the coarse passes.
    height, width = 40, 128
    x = np.arange(width)
    field = np.tile(np.cos(2 * np.pi * (x + 0.5) / width), (height, 1))
    field[:, :30] = NAN
    field[:, -30:] = NAN
    out = fill_gaps(field, np.ones(field.shape, dtype=bool), periodic_x=True)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, out[:, ::-1], atol=1e-9)


def test_fill_needs_a_valid_ocean_pixel():
    field = np.full((8, 8), NAN)
    ocean = np.ones((8, 8), dtype=bool)
    with pytest.raises(ValueError, match="no valid"):
        fill_gaps(field, ocean)
    with pytest.raises(ValueError, match="no valid"):
        fill_gaps(np.ones((8, 8)), np.zeros((8, 8), dtype=bool))  # values on land only
    with pytest.raises(ValueError, match="same shape"):
        fill_gaps(np.ones((8, 8)), np.ones((8, 9), dtype=bool))


def test_land_never_contributes():
    field = np.zeros((20, 20))
    field[:, 10:] = 100.0  # finite values on land must not leak into the ocean
    field[5:15, 5:10] = NAN
    ocean = np.zeros((20, 20), dtype=bool)
    ocean[:, :10] = True
    out = fill_gaps(field, ocean)
    np.testing.assert_array_equal(out[:, :10], 0.0)
    assert np.isnan(out[:, 10:]).all()


def test_monthly_baseline():
    rng = np.random.default_rng(1)
    days = (20 + rng.standard_normal((10, 40, 60))).astype(np.float32)
    days[rng.random(days.shape) < 0.8] = NAN
    days[:, 5:15, 5:15] = NAN  # never observed
    ocean = np.ones((40, 60), dtype=bool)
    ocean[30:, 40:] = False
    baseline, count = monthly_baseline(days, ocean, periodic_x=True)
    mean, expected_count = composite(days)
    assert baseline.dtype == np.float32 and count.dtype == np.int32
    np.testing.assert_array_equal(count, expected_count)
    seen = ocean & (count > 0)
    np.testing.assert_array_equal(baseline[seen], mean[seen])
    assert np.isfinite(baseline[ocean]).all() and np.isnan(baseline[~ocean]).all()


@pytest.mark.parametrize(("spacing", "sigma"), [(1.0, 1.0), (0.25, 2.0), (0.04, 5.0), (0.0, 2.0)])
def test_fill_starts_narrower_on_coarser_grids(spacing, sigma):
    assert fill_sigma_px(spacing, spacing) == pytest.approx((sigma, sigma))


def test_on_non_square_cells_the_fill_is_as_wide_in_degrees_along_both_axes():
    dy, dx = 0.56, 0.83
    sy, sx = fill_sigma_px(dy, dx)
    assert sy * dy == pytest.approx(sx * dx) == pytest.approx((dy * dx) ** 0.25)
    assert fill_sigma_px(0.0, 0.25) == pytest.approx((2.0, 2.0)), "a single row takes the other axis' step"


def test_a_fill_wider_along_x_spreads_further_along_x():
    field = np.full((41, 41), np.nan, np.float32)
    field[[0, -1], :] = field[:, [0, -1]] = 0.0  # a cold rim
    field[20, 20] = 1.0  # a warm centre
    ocean = np.ones_like(field, bool)
    filled = fill_gaps(field, ocean, sigma_px=(1.0, 4.0))
    assert filled[20, 26] > 0.9 and filled[26, 20] < 0.5, "six pixels along x take the centre, six along y the rim"
    np.testing.assert_array_equal(fill_gaps(field, ocean, sigma_px=(2.0, 2.0)), fill_gaps(field, ocean, sigma_px=2.0))
