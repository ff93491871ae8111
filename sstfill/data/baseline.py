"""The smooth local baseline that the model corrects: monthly composite, gaps filled.

The network works in anomaly space (docs/model.md#inputs): it predicts a
correction to this baseline, so the baseline must exist at every ocean pixel, be smooth
where it was filled, and keep the observed monthly mean exactly where there was one.
Filling is a normalised convolution, Gaussian(sum of valid values) / Gaussian(valid
weight), with sigma doubled each pass until every ocean pixel has a value; the first sigma
depends on the grid spacing (sstfill.config.fill_sigma_px).
"""

import math

import numpy as np
from scipy.ndimage import gaussian_filter

TRUNCATE = 4.0
"""Kernel radius in sigmas; beyond 4 sigma a Gaussian weighs less than 3.4e-4 of its peak."""

MAX_FINE_SIGMA = 8.0
"""Above this sigma (pixels) a pass filters a block-summed coarse grid instead, so that
kernels stay at most 2 * TRUNCATE * MAX_FINE_SIGMA + 1 taps and a pass costs O(H * W)
whatever the size of the gap."""


COMPOSITE_ROWS = 8
"""composite sums this many rows of every day at a time: a block stays in the processor's cache,
twice as fast on a global 0.05 degree month as one whole day at a time."""


def composite(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average the valid (finite) values of (D, H, W) days into an (H, W) monthly mean.

    Returns (mean, count): mean is NaN where no day is valid, count (int32) is the
    number of valid days. Sums in float64 a few rows at a time (COMPOSITE_ROWS), so memory
    is O(H * W) beyond the input and float32 input is never upcast whole.
    """
    days = np.asarray(days)
    if days.ndim != 3:
        raise ValueError(f"days must be 3-D (day, y, x); got shape {days.shape}")
    dtype = np.result_type(days.dtype, np.float32)
    total = np.empty(days.shape[1:], dtype=np.float64)
    count = np.empty(days.shape[1:], dtype=np.int32)
    for start in range(0, days.shape[1], COMPOSITE_ROWS):
        rows = slice(start, start + COMPOSITE_ROWS)
        valid = np.isfinite(days[:, rows])
        count[rows] = valid.sum(axis=0)
        total[rows] = np.where(valid, days[:, rows], 0).sum(axis=0, dtype=np.float64)
    mean = np.full(days.shape[1:], np.nan, dtype=dtype)
    np.divide(total, count, out=mean, where=count > 0, casting="unsafe")
    return mean, count


def fill_gaps(
    field: np.ndarray, ocean: np.ndarray, *, sigma_px: float | tuple[float, float] = 2.0, periodic_x: bool = False
) -> np.ndarray:
    """Fill the NaN ocean pixels of a 2-D field by normalised convolution.

    Valid (finite, ocean) pixels keep their values exactly; land (ocean == False) is NaN
    in the result and never contributes. Sigma starts at sigma_px (one value, or one per
    axis y, x) and doubles each pass until every ocean pixel has a value, up to max(H, W); any
    pixel still empty after it takes the mean of the valid ocean. periodic_x: the x axis
    wraps (global longitude), so a gap at x = 0 is filled from x = W - 1 too.
    The result has the field's float dtype (float32 stays float32).
    """
    field = np.asarray(field)
    ocean = np.asarray(ocean, dtype=bool)
    if field.ndim != 2 or ocean.shape != field.shape:
        raise ValueError(
            f"field must be 2-D and ocean the same shape; got field {field.shape}, ocean {ocean.shape}"
        )
    sigma = np.broadcast_to(np.asarray(sigma_px, dtype=float), (2,))
    if not (sigma > 0).all():
        raise ValueError(f"sigma_px must be positive; got {sigma_px}")
    dtype = np.result_type(field.dtype, np.float32)
    valid = ocean & np.isfinite(field)
    if not valid.any():
        raise ValueError(
            "cannot fill gaps: the field has no valid (finite) ocean pixel; "
            "check the input period and the land/ocean mask"
        )
    filled = field.astype(dtype, copy=True)
    filled[~ocean] = np.nan
    missing = ocean & ~valid
    if not missing.any():
        return filled

    # Filter anomalies about the mean, so that a constant field gives a zero numerator
    # exactly and float32 keeps its precision on the small departures that remain.
    centre = float(np.mean(field[valid], dtype=np.float64))
    values = filled - dtype.type(centre)
    values[~valid] = 0
    weight = valid.astype(dtype)
    modes = ("constant", "wrap" if periodic_x else "constant")

    cap = float(max(field.shape))
    sigma = np.minimum(sigma, cap)
    while True:
        num, den = _smooth(values, weight, (float(sigma[0]), float(sigma[1])), modes)
        done = missing & (den > 0)
        filled[done] = num[done] / den[done] + centre
        del num, den  # before the next pass makes its own
        missing &= ~done
        if not missing.any() or (sigma >= cap).all():
            break
        sigma = np.minimum(2.0 * sigma, cap)
    if missing.any():  # defensive: the sigma = max(H, W) pass reaches every pixel
        filled[missing] = centre
    return filled


def monthly_baseline(
    days: np.ndarray, ocean: np.ndarray, *, sigma_px: float | tuple[float, float] = 2.0, periodic_x: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Turn (D, H, W) gappy days into (baseline, count) for one month.

    baseline (H, W) float32 is the composite of the valid days, gap-filled over the
    ocean and NaN on land; count (H, W) int32 is the number of valid days per pixel.
    """
    mean, count = composite(days)
    return filled_composite(mean, ocean, sigma_px=sigma_px, periodic_x=periodic_x), count


def filled_composite(
    mean: np.ndarray, ocean: np.ndarray, *, sigma_px: float | tuple[float, float] = 2.0, periodic_x: bool = False
) -> np.ndarray:
    """The baseline (H, W) float32 from a month's composite (composite's mean): its gaps filled over the ocean."""
    return fill_gaps(mean, ocean, sigma_px=sigma_px, periodic_x=periodic_x).astype(np.float32, copy=False)


def _smooth(
    values: np.ndarray, weight: np.ndarray, sigma: tuple[float, float], modes: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-smooth values and weight (sigma per axis y, x); large sigmas go through a coarse grid."""
    if max(sigma) <= MAX_FINE_SIGMA:
        kw = {"sigma": sigma, "mode": modes, "cval": 0.0, "truncate": TRUNCATE}
        return gaussian_filter(values, **kw), gaussian_filter(weight, **kw)
    factor = 2 ** math.ceil(math.log2(max(sigma) / MAX_FINE_SIGMA))
    kw = {"sigma": (sigma[0] / factor, sigma[1] / factor), "mode": modes, "cval": 0.0, "truncate": TRUNCATE}
    periodic_x = modes[1] == "wrap"
    out = []
    for array in (values, weight):
        coarse = gaussian_filter(_block_sum(array, factor), **kw)
        out.append(_upsample(coarse, factor, array.shape, periodic_x, array.dtype))
    return out[0], out[1]


def _block_sum(array: np.ndarray, factor: int) -> np.ndarray:
    """Sum factor x factor blocks (the last ones may be ragged), in float64."""
    rows = np.add.reduceat(array, np.arange(0, array.shape[0], factor), axis=0, dtype=np.float64)
    return np.add.reduceat(rows, np.arange(0, array.shape[1], factor), axis=1)


def _upsample(
    coarse: np.ndarray, factor: int, shape: tuple[int, int], periodic_x: bool, dtype: np.dtype
) -> np.ndarray:
    """Bilinear interpolation from block centres back to the fine grid, in dtype."""
    rows = _interp_axis(coarse, factor, shape[0], axis=0, periodic=False).astype(dtype, copy=False)
    return _interp_axis(rows, factor, shape[1], axis=1, periodic=periodic_x)


def _interp_axis(array: np.ndarray, factor: int, n: int, *, axis: int, periodic: bool) -> np.ndarray:
    m = array.shape[axis]
    pos = (np.arange(n) - (factor - 1) / 2) / factor
    if periodic:
        lo = np.floor(pos).astype(np.intp)
        frac = pos - lo
        hi = (lo + 1) % m
        lo %= m
    else:
        pos = np.clip(pos, 0, m - 1)
        lo = np.minimum(np.floor(pos).astype(np.intp), max(m - 2, 0))
        frac = pos - lo
        hi = np.minimum(lo + 1, m - 1)
    frac = frac.astype(array.dtype).reshape((-1, 1) if axis == 0 else (1, -1))
    result = np.take(array, lo, axis=axis)
    result *= 1 - frac
    upper = np.take(array, hi, axis=axis)  # in place from here: at 0.05 degree each is a 100 MB map
    upper *= frac
    result += upper
    return result
