"""Moving real fields onto a case's grid and from monthly to daily steps.

The packaged fields are coarse (2 degrees) or monthly; a case needs them on its own grid
and day by day. Space: cubic splines on the source grid, after filling its land with the
nearest sea value so that coasts do not drag land values (or NaN) into the sea, wrapping
in longitude when the source is global. Time: linear between mid-month values, so the
background changes smoothly and each day is a blend of two real monthly maps.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def cell_centres(lo: float, hi: float, step: float) -> np.ndarray:
    """Centres of the cells of width `step` that tile lo..hi."""
    n = int(round((hi - lo) / step))  # noqa: RUF046 (before NumPy 2, round() of a NumPy float is a float)
    return lo + step * (np.arange(n) + 0.5)


def fill_nearest(values: np.ndarray) -> np.ndarray:
    """Every NaN of each 2-D map (last two axes) takes the value of the nearest finite pixel."""
    values = np.array(values, dtype=np.float32)
    flat = values.reshape(-1, *values.shape[-2:])
    for plane in flat:
        missing = ~np.isfinite(plane)
        if missing.any() and not missing.all():
            index = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
            plane[...] = plane[tuple(index)]
    return values


def _is_global(lon: np.ndarray) -> bool:
    step = float(np.median(np.diff(lon)))
    return abs(step * lon.size - 360.0) < 0.5 * step


def _fractional_index(coord: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Position of each target value on a regular ascending axis, in grid steps."""
    return (target - coord[0]) / float(np.median(np.diff(coord)))


def to_grid(values: np.ndarray, src_lat: np.ndarray, src_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray,
            *, order: int = 3) -> np.ndarray:
    """Interpolate maps (..., src_lat, src_lon) to (..., lat, lon) with splines of `order`.

    Land (NaN) in the source is filled with the nearest sea value first. A global source
    wraps in longitude; target longitudes may use any convention (-180..180 or 0..360).
    """
    filled = fill_nearest(values)
    pad = 4
    if _is_global(src_lon):
        filled = np.concatenate([filled[..., -pad:], filled, filled[..., :pad]], axis=-1)
        target_lon = src_lon[0] + np.mod(lon - src_lon[0], 360.0)
        x = _fractional_index(src_lon, target_lon) + pad
    else:
        x = _fractional_index(src_lon, lon)
    y = _fractional_index(src_lat, lat)
    rows, cols = np.meshgrid(y, x, indexing="ij")
    flat = filled.reshape(-1, *filled.shape[-2:])
    out = np.stack([ndimage.map_coordinates(plane, [rows, cols], order=order, mode="nearest") for plane in flat])
    return out.reshape(*values.shape[:-2], lat.size, lon.size).astype(np.float32)


def nearest_mask(mask: np.ndarray, src_lat: np.ndarray, src_lon: np.ndarray, lat: np.ndarray,
                 lon: np.ndarray) -> np.ndarray:
    """A boolean map looked up at the nearest source cell (wrapping in longitude when global)."""
    step_lon = float(np.median(np.diff(src_lon)))
    cols = np.rint((np.mod(lon - src_lon[0], 360.0)) / step_lon).astype(int) % src_lon.size
    rows = np.clip(np.rint(_fractional_index(src_lat, lat)).astype(int), 0, src_lat.size - 1)
    return mask[np.ix_(rows, cols)]


def monthly_to_daily(monthly: np.ndarray, month_times: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Daily maps linearly interpolated between monthly maps stamped at `month_times`.

    days and month_times are datetime64; each day is taken at noon. Days outside the
    monthly stamps take the nearest month's map.
    """
    t_month = (month_times.astype("datetime64[s]").astype(np.int64)) / 86400.0
    t_day = days.astype("datetime64[D]").astype(np.int64) + 0.5
    after = np.clip(np.searchsorted(t_month, t_day), 1, t_month.size - 1)
    before = after - 1
    weight = np.clip((t_day - t_month[before]) / (t_month[after] - t_month[before]), 0.0, 1.0).astype(np.float32)
    out = np.empty((days.size, *monthly.shape[1:]), np.float32)
    for i, (b, a, w) in enumerate(zip(before, after, weight, strict=True)):
        out[i] = (1.0 - w) * monthly[b] + w * monthly[a]
    return out


def climatology_to_daily(climatology: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Daily maps from a 12-month climatology (January first), cycling across the year."""
    years = days.astype("datetime64[Y]")
    first, last = years.min() - 1, years.max() + 1
    months = np.arange(first.astype("datetime64[M]"), (last + 1).astype("datetime64[M]"))
    start, end = months.astype("datetime64[s]"), (months + 1).astype("datetime64[s]")
    mid = start + (end - start) // 2
    index = months.astype(int) % 12
    return monthly_to_daily(climatology[index], mid, days)


EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = EARTH_RADIUS_KM * np.pi / 180.0


def pixel_km(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    """(north-south, east-west) size of a grid cell in km, the latter at the grid's middle latitude."""
    dlat = float(np.median(np.abs(np.diff(lat)))) if lat.size > 1 else 1.0
    dlon = float(np.median(np.abs(np.diff(lon)))) if lon.size > 1 else 1.0
    middle = float(np.median(lat))
    return dlat * KM_PER_DEGREE, dlon * KM_PER_DEGREE * max(np.cos(np.radians(middle)), 0.05)


def is_global(lon: np.ndarray) -> bool:
    """True when the longitudes close the circle."""
    return lon.size > 2 and _is_global(lon)
