"""Seeded synthetic-data factory: gappy daily SST that looks like satellite L3, and its truth.

Tests, the bundled sample data and the training of the shipped default model all draw on
this, so the fields aim to look right to an oceanographer: a real coastline, a latitude and
seasonal climatology, cool eastern boundaries, a meandering western-boundary-current front
with rings, drifting mesoscale eddies and synoptic anomalies; then persistent clouds,
polar-orbiter swath gaps, areas unseen for a month and undetected-cloud retrievals hide them.
Scales are set in km and every field is a cell mean, so a region has the same feature sizes
and variances at 0.05 as at 1 degree (not the same realisation); on a global grid longitudes
wrap. All randomness comes from ``seed``.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import xarray as xr
from scipy import ndimage, special

from sstfill.data.coastline import land_mask

log = logging.getLogger(__name__)

KM_PER_DEG = 111.195
FREEZING_K = 271.35
_STANDARD_CALENDARS = ("standard", "gregorian", "proleptic_gregorian")
_CFTIME_CALENDARS = ("noleap", "365_day", "360_day", "all_leap", "366_day", "julian")
_SWATHS_PER_DAY = 15  # ascending passes in a daily composite (an integer keeps the globe periodic)


def make_grid(lat_min: float, lat_max: float, lon_min: float, lon_max: float,
              resolution_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Return cell-centre 1-D (lat, lon) for a box; a 360-degree lon span is a global grid."""
    if resolution_deg <= 0 or lat_max <= lat_min or lon_max <= lon_min:
        raise ValueError(
            f"expected lat_min < lat_max, lon_min < lon_max and resolution_deg > 0, got "
            f"{(lat_min, lat_max, lon_min, lon_max, resolution_deg)}"
        )
    if lat_min < -90 or lat_max > 90 or lon_max - lon_min > 360:
        raise ValueError(f"box {(lat_min, lat_max, lon_min, lon_max)} is not on the sphere")
    n_lat = max(1, round((lat_max - lat_min) / resolution_deg))
    n_lon = max(1, round((lon_max - lon_min) / resolution_deg))
    lat = lat_min + (np.arange(n_lat) + 0.5) * resolution_deg
    lon = lon_min + (np.arange(n_lon) + 0.5) * resolution_deg
    return lat, lon


REGION_RESOLUTIONS = (0.05, 0.1, 0.25, 0.25, 0.5, 1.0)


def random_ocean_region(rng, *, min_px=64, max_px=128, resolutions=REGION_RESOLUTIONS, min_ocean=0.5):
    """A random box of min_px..max_px cells a side, at a resolution drawn from ``resolutions``,
    between 65 S and 65 N, with at least ``min_ocean`` of it ocean in the bundled coastline.

    Returns (lat, lon, resolution_deg). Used to train and to evaluate on many regions."""
    while True:
        res = float(rng.choice(resolutions))
        ny, nx = (int(n) for n in rng.integers(min_px, max_px + 1, size=2))
        lat0 = float(rng.uniform(-65, 65 - ny * res))
        lon0 = float(rng.uniform(-180, 180))
        lat, lon = make_grid(lat0, lat0 + ny * res, lon0, lon0 + nx * res, res)
        if (~land_mask(lat, lon)).mean() >= min_ocean:
            return lat, lon, res


def synthetic_sst(lat, lon, *, start: str = "2021-01-01", n_months: int = 3, seed: int = 0,
                  cloud_cover: float = 0.6, calendar: str = "standard",
                  ) -> tuple[xr.Dataset, xr.Dataset]:
    """Return (daily, monthly_truth) Datasets for whole calendar months from ``start``.

    ``daily`` is L3-like: ``sst`` is NaN under cloud, in swath gaps and on land; pixels with
    ``quality_level`` 1-3 hold cold-biased undetected-cloud values, 4-5 are good. The truth is
    the monthly mean of the gap-free daily field that ``daily`` observes.
    """
    if not 0.0 <= cloud_cover <= 1.0:
        raise ValueError(f"cloud_cover must lie in [0, 1], got {cloud_cover}")
    if int(n_months) != n_months or n_months < 1:
        raise ValueError(f"n_months must be a positive integer, got {n_months}")
    began = time.perf_counter()
    days, months, month_of_day = _time_axes(start, int(n_months), calendar)
    year_frac = _year_fraction(days)
    geo = _geometry(lat, lon)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    truth = _truth(streams[0], streams[1], geo, year_frac)
    truth[:, geo.land] = np.nan
    monthly = np.stack([truth[month_of_day == m].mean(axis=0) for m in range(len(months) - 1)])
    sst, quality = _observe(streams[2], streams[3], geo, truth, month_of_day, cloud_cover)
    daily_ds, monthly_ds = _datasets(lat, lon, days, months, sst, quality, monthly, seed)
    log.debug("synthetic_sst %s grid, %d days, seed %d: %.2f s", geo.land.shape, len(days),
              seed, time.perf_counter() - began)
    return daily_ds, monthly_ds


def write_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` as zlib-compressed NetCDF4: floats as float32 with NaN fill, CF time."""
    path = Path(path)
    encoding = {}
    for name, var in ds.variables.items():
        enc = {}
        if _is_time(var):
            calendar = _calendar_of(var)
            enc = {"units": "days since 1970-01-01 00:00:00", "calendar": calendar,
                   "dtype": "float64", "_FillValue": None}
        elif name in ds.coords or name in ds.dims:
            enc = {"_FillValue": None}
        elif var.dtype.kind == "f":
            enc = {"dtype": "float32", "_FillValue": np.float32(np.nan)}
        elif var.dtype.kind in "iu":
            enc = {"_FillValue": None}
        if name not in ds.dims and var.ndim >= 2 and var.dtype.kind in "fiu":
            enc.update(zlib=True, complevel=4, shuffle=True)
        encoding[name] = enc
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


# --------------------------------------------------------------------------- time


def _time_axes(start, n_months, calendar):
    """Daily and month-start axes, and the month index of each day."""
    if calendar not in _STANDARD_CALENDARS + _CFTIME_CALENDARS:
        raise ValueError(f"calendar must be one of {_STANDARD_CALENDARS + _CFTIME_CALENDARS}, "
                         f"got {calendar!r}")
    use_cftime = calendar not in _STANDARD_CALENDARS
    kind = dict(calendar="standard" if not use_cftime else calendar, use_cftime=use_cftime)
    first = xr.date_range(start, periods=1, freq="D", **kind)[0]
    months = xr.date_range(start, periods=n_months + 1, freq="MS", **kind)
    if months[0] != first or first.hour or first.minute or first.second:
        raise ValueError(f"start must be the first day of a month at 00:00, got {start!r}")
    days = xr.date_range(months[0], months[-1], freq="D", inclusive="left", **kind)
    lengths = [(b - a).days for a, b in zip(months[:-1], months[1:])]
    return days, months, np.repeat(np.arange(n_months), lengths)


def _year_fraction(days):
    """Fraction of the calendar year at each day (0 on 1 January), whatever the calendar."""
    dt = xr.DataArray(days, dims="time").dt
    return ((dt.dayofyear.values - 1) / dt.days_in_year.values).astype(np.float32)


def _is_time(var):
    return var.dtype.kind == "M" or (var.dtype == object and var.size
                                     and hasattr(var.values.flat[0], "calendar"))


def _calendar_of(var):
    return "standard" if var.dtype.kind == "M" else var.values.flat[0].calendar


# ------------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class _Geometry:
    """The grid in km, its coastline, and smooth distances to continents along parallels."""

    lat: np.ndarray  # (ny,) degrees
    lon: np.ndarray  # (nx,) degrees, unwrapped so that it increases
    periodic: bool
    dlon: float
    dy_km: np.ndarray  # (ny,) cell height
    dx_km: np.ndarray  # (ny,) cell width
    land: np.ndarray  # (ny, nx) bool
    coast: np.ndarray  # (ny, nx) 1 at the shore, 0 more than ~150 km offshore
    west_km: np.ndarray  # (ny, nx) distance east of the continent to the west
    east_km: np.ndarray  # (ny, nx) distance west of the continent to the east
    helper: dict  # the same fields on a coarser grid all round the globe, for lookups

    def at(self, name, lat, lon):
        return _lookup(self.helper, name, lat, lon)


def _geometry(lat, lon):
    lat = np.asarray(lat, dtype=float)
    lon = np.unwrap(np.asarray(lon, dtype=float), period=360.0)
    if lat.ndim != 1 or lon.ndim != 1 or lat.size < 2 or lon.size < 2:
        raise ValueError(f"lat and lon must be 1-D with at least 2 points, got {lat.shape}, "
                         f"{lon.shape}")
    if np.any(np.diff(lat) <= 0) or np.any(np.diff(lon) <= 0):
        raise ValueError("lat and lon must be strictly increasing")
    dlon = float(np.median(np.diff(lon)))
    periodic = bool(abs(lon.size * dlon - 360.0) < 1e-3 * dlon
                    and np.allclose(np.diff(lon), dlon, rtol=1e-3))
    if lon[-1] - lon[0] >= 360.0 and not periodic:
        raise ValueError("lon covers more than 360 degrees without being a regular global grid")
    helper = _continents(lat, min(float(np.median(np.diff(lat))), dlon))
    grid = (lat[:, None], lon[None, :])
    return _Geometry(
        lat, lon, periodic, dlon, dy_km=np.abs(np.gradient(lat)) * KM_PER_DEG,
        dx_km=dlon * KM_PER_DEG * np.maximum(np.cos(np.radians(lat)), 0.01),
        land=land_mask(lat, lon), coast=_lookup(helper, "coast", *grid),
        west_km=_lookup(helper, "west", *grid), east_km=_lookup(helper, "east", *grid),
        helper=helper)


def _continents(lat, spacing):
    """Land, coastal proximity and along-parallel distances to continents (km), computed on a
    0.25-0.5 degree band round the globe, so a region sees the coasts beyond its edges."""
    res = 360.0 / round(360.0 / float(np.clip(spacing, 0.25, 0.5)))
    lat0 = max(-90.0, lat[0] - 6.0)
    lat_h = lat0 + (np.arange(int(np.ceil((min(90.0, lat[-1] + 6.0) - lat0) / res))) + 0.5) * res
    lon_h = -180.0 + (np.arange(round(360.0 / res)) + 0.5) * res
    land = land_mask(lat_h, lon_h)
    px = res * KM_PER_DEG
    cos_mid = max(np.cos(np.radians(np.clip(lat_h.mean(), -70, 70))), 0.3)

    def smooth(a, km):
        return ndimage.gaussian_filter(a.astype(np.float32), (km / px, km / (px * cos_mid)),
                                       mode=("nearest", "wrap"))

    continent = smooth(land, 100.0) > 0.5  # islands do not count
    km_per_col = px * np.maximum(np.cos(np.radians(lat_h)), 0.01)[:, None]
    return {
        "lat0": lat_h[0], "lon0": lon_h[0], "res": res, "land": land.astype(np.float32),
        "coast": np.clip(2.0 * smooth(land, 80.0), 0.0, 1.0),
        "west": smooth(_distance_from(continent) * km_per_col, 60.0),
        "east": smooth(_distance_from(continent[:, ::-1])[:, ::-1] * km_per_col, 60.0),
    }


def _lookup(helper, name, lat, lon):
    """Bilinear lookup of a helper field at arbitrary (broadcast) points."""
    iy = np.clip((np.asarray(lat) - helper["lat0"]) / helper["res"], 0, helper[name].shape[0] - 1)
    ix = np.mod(np.asarray(lon) - helper["lon0"], 360.0) / helper["res"]
    iy, ix = np.broadcast_arrays(iy, ix)
    return ndimage.map_coordinates(helper[name], [iy, ix], order=1, mode="grid-wrap")


def _distance_from(mask):
    """Columns from each cell back to the nearest True cell at or before it, with wrap."""
    n = mask.shape[1]
    cols = np.arange(2 * n)
    last = np.maximum.accumulate(np.where(np.tile(mask, 2), cols, -10 * n), axis=1)[:, n:]
    return np.minimum(cols[n:] - last, 4 * n).astype(np.float32)


# -------------------------------------------------------------------- random fields


def _kernel_entries(x, c0, step, count, sigma, period):
    """Sparse Gaussian weights of points x on centres c0 + step * j (0 <= j < count), cut at 4σ.

    All arguments broadcast against x; returns (flat index into x, j, weight).
    """
    x, c0, step, count, sigma = np.broadcast_arrays(x, c0, step, count, sigma)
    width = int(np.ceil(4.0 * np.max(sigma / step))) + 1
    offsets = np.arange(-width, width + 1)
    j = np.floor((x - c0) / step).astype(np.int64)[..., None] + offsets
    dist = x[..., None] - (c0[..., None] + step[..., None] * j)
    keep = np.ones(j.shape, bool)
    if period:
        dist = np.mod(dist + period / 2, period) - period / 2
        keep = (offsets >= -(count[..., None] // 2)) & (offsets <= (count[..., None] - 1) // 2)
        j = np.mod(j, count[..., None])
    weight = np.exp(-0.5 * (dist / sigma[..., None]) ** 2)
    keep &= (weight > 1e-4) & (j >= 0) & (j < count[..., None])
    index = np.broadcast_to(np.arange(x.size).reshape(x.shape)[..., None], j.shape)
    return index[keep], j[keep], weight[keep]


def _ar1_noise(rng, n_steps, size, tau_days):
    """Standard normal noise, stationary AR(1) along the first axis."""
    noise = rng.standard_normal((n_steps, size), dtype=np.float32)
    rho = np.float32(np.exp(-1.0 / tau_days)) if tau_days else np.float32(0.0)
    scale = np.float32(np.sqrt(1.0 - rho**2))
    for t in range(1, n_steps):
        noise[t] = rho * noise[t - 1] + scale * noise[t]
    return noise


def _random_field(rng, geo, sigma_km, n_steps=1, tau_days=None):
    """A Gaussian random field of Gaussian correlation scale sigma_km, AR(1) in time.

    Built as Gaussian bumps on noise rows whose spacing in longitude widens as 1/cos(lat),
    so that features keep their size in km everywhere and wrap on a global grid. Point
    values would have unit variance; the returned cell means are weaker by _cell_mean_gain.
    """
    lat, ny, nx = geo.lat, geo.lat.size, geo.lon.size
    sy = np.sqrt(sigma_km**2 + geo.dy_km**2 / 12.0)
    step_y = max(sy.min() / 1.5, geo.dy_km.min() / 2.0) / KM_PER_DEG
    margin = 4.0 * sy.max() / KM_PER_DEG + step_y
    lo, hi = max(lat[0] - margin, -90.0 + step_y / 2), min(lat[-1] + margin, 90.0 - step_y / 2)
    rows_lat = lo + step_y * np.arange(int(np.ceil((hi - lo) / step_y)) + 1)
    cos_k = np.maximum(np.cos(np.radians(rows_lat)), 0.01)
    dx_k = geo.dlon * KM_PER_DEG * cos_k
    sx = np.sqrt(sigma_km**2 + dx_k**2 / 12.0) / (KM_PER_DEG * cos_k)
    step_x = np.maximum(sx / 1.5, geo.dlon / 2.0)
    if geo.periodic:
        count = np.maximum(1, np.ceil(360.0 / step_x)).astype(np.int64)
        step_x, c0 = 360.0 / count, np.zeros_like(sx)
    else:
        c0 = geo.lon[0] - 4.0 * sx - step_x
        count = np.ceil((geo.lon[-1] + 4.0 * sx - c0) / step_x).astype(np.int64) + 2
    first = np.concatenate([[0], np.cumsum(count)])
    idx, j, w = _kernel_entries(geo.lon[None, :], c0[:, None], step_x[:, None], count[:, None],
                                sx[:, None], 360.0 if geo.periodic else None)
    bx = sp.csr_array((w.astype(np.float32), (idx, j + first[idx // nx])),
                      shape=(rows_lat.size * nx, first[-1]))
    idx, j, w = _kernel_entries(lat, lo, step_y, rows_lat.size, sy / KM_PER_DEG, None)
    by = sp.csr_array((w.astype(np.float32), (idx, j)), shape=(ny, rows_lat.size))

    noise = _ar1_noise(rng, n_steps, first[-1], tau_days)
    field = np.empty((n_steps, ny, nx), np.float32)
    for t in range(n_steps):
        field[t] = by @ (bx @ noise[t]).reshape(rows_lat.size, nx)
    var = by.power(2) @ (bx.power(2) @ np.ones(first[-1], np.float32)).reshape(-1, nx)
    field *= (_cell_mean_gain(geo, sigma_km)[:, None] / np.sqrt(var)).astype(np.float32)
    return field


def _cell_mean_gain(geo, sigma_km):
    """Std of a cell mean relative to a point value, for a field of Gaussian scale sigma_km."""
    sy = np.sqrt(sigma_km**2 + geo.dy_km**2 / 12.0)
    sx = np.sqrt(sigma_km**2 + geo.dx_km**2 / 12.0)
    return np.sqrt(sigma_km**2 / (sx * sy)).astype(np.float32)


def _field_1d(rng, geo, lat0, sigma_km, n_steps=1, tau_days=None, drift_km_day=0.0):
    """Unit-variance random function of longitude along parallel lat0, drifting eastward."""
    km_per_deg = KM_PER_DEG * max(np.cos(np.radians(lat0)), 0.05)
    sigma, step = sigma_km / km_per_deg, sigma_km / km_per_deg / 1.5
    shift = drift_km_day * np.arange(n_steps) / km_per_deg
    x = geo.lon[None, :] - shift[:, None]
    if geo.periodic:
        count = max(1, int(np.ceil(360.0 / step)))
        step, c0, period = 360.0 / count, 0.0, 360.0
    else:
        c0 = x.min() - 4 * sigma - step
        count, period = int(np.ceil((x.max() + 4 * sigma - c0) / step)) + 2, None
    noise = _ar1_noise(rng, n_steps, count, tau_days)
    idx, j, w = _kernel_entries(x, c0, step, count, sigma, period)
    value = np.bincount(idx, w * noise[idx // x.shape[1], j], minlength=x.size)
    return (value / np.sqrt(np.bincount(idx, w**2, minlength=x.size))).reshape(x.shape)


# ---------------------------------------------------------------------------- ocean


def _truth(rng, rng_eddies, geo, year_frac):
    """The gap-free daily cell-mean SST in kelvin, (time, lat, lon) float32."""
    n = year_frac.size
    sst = _climatology(rng, geo, year_frac)
    front, rings = _fronts(rng, geo, year_frac)
    sst += front
    eddies = _eddies(rng_eddies, geo, n)
    sst += _render_eddies(geo, {k: np.concatenate([eddies[k], rings[k]]) for k in eddies}, n)
    sst += 0.3 * _random_field(rng, geo, 180.0, n, 8.0)  # synoptic anomalies
    sst += 0.1 * _random_field(rng, geo, 15.0, n, 2.0)  # submesoscale texture
    # Smoothly floored at freezing: sea water under ice stays near -1.8 degC.
    return (FREEZING_K + 0.25 * np.logaddexp(0.0, (sst - FREEZING_K) / 0.25)).astype(np.float32)


def _season(year_frac):
    """+1 at the northern SST maximum (end of August), -1 at its minimum (start of March)."""
    return -np.cos(2.0 * np.pi * (year_frac - 0.16))


def _climatology(rng, geo, year_frac):
    """Zonal-mean profile, seasonal cycle, gyre asymmetry and eastern-boundary upwelling."""
    lat = geo.lat[:, None]
    north = lat >= 2.0
    x = np.clip((np.abs(lat - 2.0) - 6.0) / (np.where(north, 80.0, 72.0) - 6.0), 0.0, 1.0)
    mean = FREEZING_K + 30.3 * np.cos(0.5 * np.pi * x) ** 2
    hemi = np.tanh(lat / 6.0)
    amp = (0.4 + 4.0 * np.sin(np.radians(2.0 * lat)) ** 2) * np.where(north, 1.0, 0.7)
    amp = amp * (1.0 + 0.8 * geo.coast)  # shelf seas swing more
    summer = hemi * _season(year_frac)[:, None, None]  # (time, lat, 1)
    subtropics = np.exp(-(((np.abs(lat) - 25.0) / 15.0) ** 2))
    gyre = rng.uniform(1.0, 2.0) * subtropics * (np.exp(-geo.west_km / 2500.0)
                                                 - np.exp(-geo.east_km / 2500.0))
    upwelling = (rng.uniform(1.5, 3.5) * np.exp(-geo.east_km / rng.uniform(100.0, 220.0))
                 * np.exp(-(((np.abs(lat) - 27.0) / 9.0) ** 2))
                 * (1.0 - np.exp(-geo.west_km / 2000.0)))
    sst = np.empty((year_frac.size, *geo.land.shape), np.float32)
    for t, summer_t in enumerate(summer):
        sst[t] = mean + gyre + amp * summer_t - upwelling * (1.0 + 0.3 * summer_t)
    return sst


def _fronts(rng, geo, year_frac):
    """A western-boundary-current front per hemisphere, where the grid reaches it, and rings.

    A tanh step of 2-6 K over 50-100 km, strongest off the western coast, minus a broad step so
    that the climatological gradient is concentrated, not added; its path tilts poleward,
    wanders, and meanders that grow downstream propagate east.
    """
    n, ny, nx = year_frac.size, geo.lat.size, geo.lon.size
    out = np.zeros((n, ny, nx), np.float32)
    rings = []
    for hemi, (lo, hi) in ((1.0, (33.0, 42.0)), (-1.0, (38.0, 47.0))):
        lat0 = hemi * rng.uniform(lo, hi)
        jump, width, tilt, speed = (rng.uniform(2.0, 6.0), rng.uniform(25.0, 50.0),
                                    rng.uniform(0.1, 0.3), rng.uniform(3.0, 8.0))
        if not geo.lat[0] - 5.0 < lat0 < geo.lat[-1] + 5.0:
            continue
        west, east = geo.at("west", lat0, geo.lon), geo.at("east", lat0, geo.lon)
        strength = jump * (0.35 + 0.65 * np.exp(-west / 2500.0)) * (1 - np.exp(-east / 1500.0))
        slope = 0.0 if geo.periodic else np.clip(tilt * (geo.lon - geo.lon.mean()), -5.0, 5.0)
        path = lat0 + hemi * slope + 80.0 * _field_1d(rng, geo, lat0, 400.0)[0] / KM_PER_DEG
        meander = (15.0 + 45.0 * (1.0 - np.exp(-west / 800.0))) / KM_PER_DEG
        axis = path + meander * _field_1d(rng, geo, lat0, 90.0, n, 20.0, speed)
        broad = np.tanh(hemi * (path[None, :] - geo.lat[:, None]) * KM_PER_DEG / 400.0)
        w = np.sqrt(width**2 + (geo.dy_km[:, None] / np.pi) ** 2)
        winter = 1.0 - 0.2 * hemi * _season(year_frac)
        for t in range(n):
            across = hemi * (axis[t][None, :] - geo.lat[:, None]) * KM_PER_DEG
            out[t] += 0.5 * winter[t] * strength * (np.tanh(across / w) - broad)
        rings.append(_rings(rng, geo, n, hemi, path, strength / jump))
    empty = {k: np.zeros(0) for k in ("lat", "lon", "birth", "life", "amp", "radius",
                                      "c_west", "v_north")}
    return out, {k: np.concatenate([r[k] for r in rings] + [empty[k]]) for k in empty}


def _rings(rng, geo, n_days, hemi, path, strength):
    """Warm rings on the poleward side of a front, cold rings on the equatorward side."""
    length = (geo.lon[-1] - geo.lon[0]) * KM_PER_DEG * np.cos(np.radians(path.mean()))
    k = rng.poisson(length / 500.0)
    col = rng.integers(0, geo.lon.size, k)
    side = rng.choice([-1.0, 1.0], k)
    life = rng.uniform(60.0, 180.0, k)
    ring = {"lat": path[col] + hemi * side * rng.uniform(1.0, 2.5, k), "lon": geo.lon[col],
            "birth": rng.uniform(-life, n_days), "life": life,
            "amp": side * rng.uniform(1.5, 3.0, k), "radius": rng.uniform(50.0, 90.0, k),
            "c_west": rng.uniform(2.0, 6.0, k), "v_north": np.zeros(k)}
    keep = (rng.random(k) < strength[col]) & (geo.at("land", ring["lat"], ring["lon"]) < 0.5)
    return {key: v[keep] for key, v in ring.items()}


def _eddies(rng, geo, n_days):
    """Mesoscale eddies: one alive per (250 km)^2 of ocean, Rossby-radius sized, drifting west.

    Cold (cyclonic) eddies drift poleward and warm ones equatorward; each grows and decays
    over its life of weeks to months.
    """
    lat_lo, lat_hi = max(geo.lat[0] - 3.0, -85.0), min(geo.lat[-1] + 3.0, 85.0)
    if geo.periodic:
        lon_lo, span = 0.0, 360.0
    else:
        pad = 3.0 / max(np.cos(np.radians(max(abs(lat_lo), abs(lat_hi)))), 0.1)
        lon_lo, span = geo.lon[0] - pad, geo.lon[-1] - geo.lon[0] + 2 * pad
    s_lo, s_hi = np.sin(np.radians([lat_lo, lat_hi]))
    area = (s_hi - s_lo) * np.radians(span) * (KM_PER_DEG * 180.0 / np.pi) ** 2
    mean_life = 60.0
    k = rng.poisson(area / 250.0**2 * (n_days + mean_life) / mean_life)
    lat = np.degrees(np.arcsin(rng.uniform(s_lo, s_hi, k)))
    life = 20.0 + rng.exponential(mean_life - 20.0, k)
    amp = rng.uniform(0.3, 1.5, k) * rng.choice([-1.0, 1.0], k)
    sin_lat = np.sin(np.radians(np.maximum(np.abs(lat), 10.0)))
    eddy = {"lat": lat, "lon": lon_lo + rng.uniform(0.0, span, k),
            "birth": rng.uniform(-life, n_days), "life": life,
            "amp": amp * np.where(np.abs(lat) < 10.0, 0.5, 1.0),
            "radius": np.clip(35.0 / sin_lat * rng.lognormal(0.0, 0.2, k), 30.0, 100.0),
            "c_west": np.clip(0.5 / sin_lat**2, 0.8, 10.0) * rng.uniform(0.6, 1.4, k),
            "v_north": np.sign(lat) * np.where(amp < 0, 1.0, -1.0) * rng.uniform(0.0, 0.8, k)}
    keep = geo.at("land", eddy["lat"], eddy["lon"]) < 0.5
    return {key: v[keep] for key, v in eddy.items()}


def _render_eddies(geo, eddy, n_days):
    """Sum of cell-averaged Gaussian eddies per day, as sparse outer products."""
    ny, nx = geo.lat.size, geo.lon.size
    out = np.zeros((n_days, ny, nx), np.float32)
    dy = geo.dy_km.mean()
    for t in range(n_days):
        age = t - eddy["birth"]
        on = (age > 0) & (age < eddy["life"])
        if not on.any():
            continue
        age, radius = age[on], eddy["radius"][on]
        lat = eddy["lat"][on] + eddy["v_north"][on] * age / KM_PER_DEG
        km_per_deg_x = KM_PER_DEG * np.maximum(np.cos(np.radians(lat)), 0.05)
        lon = eddy["lon"][on] - eddy["c_west"][on] * age / km_per_deg_x
        sy = np.sqrt(radius**2 + dy**2 / 12.0)
        sx = np.sqrt(radius**2 + (geo.dlon * km_per_deg_x) ** 2 / 12.0)
        amp = eddy["amp"][on] * np.sin(np.pi * age / eddy["life"][on]) ** 2 * radius**2 / (sx * sy)
        e, i, wy = _window(geo.lat, lat, sy / KM_PER_DEG, None)
        gy = sp.csr_array((wy * amp[e], (i, e)), shape=(ny, lat.size))
        e, j, wx = _window(geo.lon, lon, sx / km_per_deg_x, 360.0 if geo.periodic else None)
        out[t] = (gy @ sp.csr_array((wx, (e, j)), shape=(lat.size, nx))).toarray()
    return out


def _window(coord, centre, sigma, period):
    """(centre index, coord index, weight) of Gaussians on sorted coord, cut at 3.7 sigma."""
    n = coord.size
    if period:
        start = np.floor((centre - 3.7 * sigma - coord[0]) * n / period).astype(np.int64)
        width = min(n, int(np.ceil(np.max(7.4 * sigma) * n / period)) + 2)
    else:
        start = np.searchsorted(coord, centre - 3.7 * sigma)
        width = max(1, int(np.max(np.searchsorted(coord, centre + 3.7 * sigma) - start)))
    idx = start[:, None] + np.arange(width)
    if period:
        idx %= n
        dist = np.mod(coord[idx] - centre[:, None] + period / 2, period) - period / 2
    else:
        idx = np.minimum(idx, n - 1)
        dist = coord[idx] - centre[:, None]
    weight = np.exp(-0.5 * (dist / sigma[:, None]) ** 2)
    keep = weight > 1e-3
    if not period:
        keep &= start[:, None] + np.arange(width) < n
    rows = np.broadcast_to(np.arange(centre.size)[:, None], idx.shape)
    return rows[keep], idx[keep], weight[keep]


# --------------------------------------------------------------------- observation


def _observe(rng, rng_noise, geo, truth, month_of_day, cloud_cover):
    """Hide the truth as a daytime polar-orbiter L3 product does; return (sst, quality)."""
    n = truth.shape[0]
    p_cloud = _cloud_probability(geo, cloud_cover)
    parts = ((0.8, 120.0, 3.0), (0.5, 35.0, 1.5), (0.35, 8.0, 0.7))  # weight, km, days
    z = np.zeros(truth.shape, np.float32)
    for w, km, tau in parts:
        part = _random_field(rng, geo, km, n, tau)
        part *= np.float32(w)
        z += part
        del part
    z /= np.sqrt(sum((w * _cell_mean_gain(geo, km)) ** 2 for w, km, _ in parts))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z_cloud = special.ndtri(1.0 - p_cloud)[:, None].astype(np.float32)
        z_edge = special.ndtri(0.85 * (1.0 - p_cloud))[:, None].astype(np.float32)
        cloudy = (z > z_cloud) | _unseen_patches(rng, geo, month_of_day, cloud_cover)
        near = z  # 0 in the clear sky, rising to 1 at the cloud edge across its 15 % margin
        near -= z_edge
        near /= z_cloud - z_edge
    np.nan_to_num(near, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    off_centre = _swath_offset(rng, geo, n)
    seen = ~cloudy & (off_centre < 1.0) & ~geo.land & (near <= 0.75)  # screening dilates
    edge = seen & (near > 0.0)
    quality = np.where(seen, 5, 0).astype(np.int8)
    quality[edge | (seen & (off_centre > 0.7))] = 4
    del off_centre, cloudy
    bad = edge & (rng_noise.random(truth.shape, dtype=np.float32) < 0.25)  # undetected cloud
    bias = (rng_noise.uniform(0.5, 1.0, bad.sum()) * near[bad] * 4.8 + 0.4).astype(np.float32)
    del near  # bias: 0.4-4 K, colder nearer the cloud
    quality[bad] = np.where(bias > 2.5, 1, np.where(bias > 1.2, 2, 3))
    sst = _random_field(rng_noise, geo, 100.0, n, 2.0)  # regional retrieval error
    sst *= 0.1
    sst += truth
    for t in range(n):  # pixel noise, larger at acceptable than at best quality
        sst[t] += rng_noise.standard_normal(truth.shape[1:], dtype=np.float32) * np.where(
            quality[t] == 5, np.float32(0.12), np.float32(0.25))
    sst[bad] = truth[bad] - bias
    np.maximum(sst, FREEZING_K, out=sst)
    sst[~seen] = np.nan
    return sst, quality


def _cloud_probability(geo, cloud_cover):
    """Cloud probability per row, with an ITCZ, clearer subtropics and cloudy storm tracks.

    Shifted in logit space so that its mean over the grid's ocean is cloud_cover.
    """
    a = np.abs(geo.lat)
    ramp = np.clip((a - 20.0) / 35.0, 0.0, 1.0)
    shape = (0.55 + 0.28 * ramp**2 * (3 - 2 * ramp) + 0.1 * np.exp(-(((geo.lat - 7) / 6) ** 2))
             - 0.08 * np.exp(-(((a - 22.0) / 8.0) ** 2)))
    if cloud_cover in (0.0, 1.0):
        return np.full(geo.lat.size, float(cloud_cover))
    weight = (~geo.land).sum(axis=1) + 1e-3
    logit = special.logit(shape)
    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.average(special.expit(logit + mid), weights=weight) < \
            cloud_cover else (lo, mid)
    return special.expit(logit + 0.5 * (lo + hi))


def _unseen_patches(rng, geo, month_of_day, cloud_cover):
    """Persistent cloud blobs that hide ~2 % of the ocean for a whole month (more if cloudier).

    A Poisson number per unit area, centred anywhere near the grid: a large region always
    has some, a small one now and then.
    """
    out = np.zeros((month_of_day.size, geo.lat.size, geo.lon.size), bool)
    if cloud_cover == 0.0:
        return out
    outline = _random_field(rng, geo, 40.0)[0]
    lat_lo, lat_hi = max(geo.lat[0] - 1.5, -90.0), min(geo.lat[-1] + 1.5, 90.0)
    cos = np.cos(np.radians(np.clip(0.5 * (lat_lo + lat_hi), -80.0, 80.0)))
    lon_lo, lon_hi = ((0.0, 360.0) if geo.periodic
                      else (geo.lon[0] - 1.5 / cos, geo.lon[-1] + 1.5 / cos))
    area = (lat_hi - lat_lo) * (lon_hi - lon_lo) * cos * KM_PER_DEG**2
    min_radius = 1.5 * max(geo.dy_km.mean(), geo.dx_km.mean())
    for month in range(month_of_day.max() + 1):
        k = rng.poisson(area / 1500.0**2 * (cloud_cover / 0.6) ** 2)
        centres = rng.uniform([lat_lo, lon_lo], [lat_hi, lon_hi], (k, 2))
        radius = np.maximum(rng.uniform(50.0, 150.0, k) * np.sqrt(cloud_cover / 0.6), min_radius)
        hidden = np.zeros(geo.land.shape, bool)
        for (lat_c, lon_c), r in zip(centres, radius):
            dl = geo.lon[None, :] - lon_c
            if geo.periodic:
                dl = np.mod(dl + 180.0, 360.0) - 180.0
            dx = dl * KM_PER_DEG * np.cos(np.radians(lat_c))
            dy = (geo.lat[:, None] - lat_c) * KM_PER_DEG
            hidden |= np.exp(-0.5 * (dx**2 + dy**2) / r**2) * (1 + 0.4 * outline) > 0.6
        out[month_of_day == month] |= hidden
    return out


def _swath_offset(rng, geo, n_days):
    """Cross-track distance to the nearest daily ascending pass, in half swath widths.

    Sun-synchronous ground tracks (inclination 98.2 deg) give tilted stripes of missing data
    at low and mid latitudes, shifting by 9/16 of a track spacing each day.
    """
    incl, half_width = np.radians(98.2), rng.uniform(1750.0, 2050.0) / 2.0
    spacing = 360.0 / _SWATHS_PER_DAY
    shift = rng.uniform(0.0, spacing) + spacing * np.mod(np.arange(n_days) * 9.0 / 16.0, 1.0)

    def track_lon(lat_deg):
        u = np.arcsin(np.clip(np.sin(np.radians(lat_deg)) / np.sin(incl), -1.0, 1.0))
        return np.degrees(np.arctan2(np.cos(incl) * np.sin(u), np.cos(u)) - u / 14.56)

    cos = np.cos(np.radians(geo.lat))
    slope = (track_lon(geo.lat + 0.01) - track_lon(geo.lat - 0.01)) / 0.02
    km_across = KM_PER_DEG * cos / np.sqrt(1.0 + (cos * slope) ** 2)
    start = (geo.lon[None, :] - track_lon(geo.lat)[:, None] + spacing / 2.0).astype(np.float32)
    scale = (km_across / half_width)[:, None].astype(np.float32)
    out = np.empty((n_days, *start.shape), np.float32)
    for t in range(n_days):
        out[t] = np.abs(np.mod(start - np.float32(shift[t]), spacing) - spacing / 2.0) * scale
    return out


# ------------------------------------------------------------------------ datasets


def _datasets(lat, lon, days, months, sst, quality, monthly, seed):
    coords = {
        "lat": ("lat", np.asarray(lat, dtype=float),
                {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude",
                 "axis": "Y"}),
        "lon": ("lon", np.asarray(lon, dtype=float),
                {"units": "degrees_east", "standard_name": "longitude",
                 "long_name": "longitude", "axis": "X"}),
    }
    time_attrs = {"standard_name": "time", "long_name": "time", "axis": "T"}
    sst_attrs = {"standard_name": "sea_surface_temperature", "units": "kelvin"}
    attrs = {"Conventions": "CF-1.8", "institution": "sstfill",
             "source": f"sstfill.testing.synthetic_sst, seed {seed} (synthetic, not observed)"}
    dims = ("time", "lat", "lon")
    daily = xr.Dataset(
        {"sst": (dims, sst, {**sst_attrs, "long_name": "daily sea surface temperature (L3-like)",
                             "ancillary_variables": "quality_level"}),
         "quality_level": (dims, quality, {
             "long_name": "quality level of the SST retrieval",
             "flag_values": np.arange(6, dtype=np.int8),
             "flag_meanings": "no_data bad_data worst_quality low_quality acceptable_quality "
                              "best_quality",
             "comment": "keep >= 4; levels 1-3 hold cold-biased (undetected cloud) values"})},
        coords={"time": ("time", np.asarray(days), time_attrs), **coords},
        attrs={**attrs, "title": "Synthetic gappy daily sea surface temperature"})
    starts, ends = np.asarray(months[:-1]), np.asarray(months[1:])
    truth = xr.Dataset(
        {"sst": (dims, monthly.astype(np.float32),
                 {**sst_attrs, "long_name": "monthly mean sea surface temperature (truth)",
                  "cell_methods": "time: mean"}),
         "time_bnds": (("time", "nv"), np.stack([starts, ends], axis=1))},
        coords={"time": ("time", starts, {**time_attrs, "bounds": "time_bnds"}), **coords},
        attrs={**attrs, "title": "Synthetic gap-free monthly mean sea surface temperature"})
    return daily, truth


# ------------------------------------------------- files as users hold them


GHRSST_TIME_UNITS = "seconds since 1981-01-01 00:00:00"
_GHRSST_STANDARD_NAMES = {
    "sea_surface_temperature": "sea_surface_subskin_temperature",  # the L3S variable name
    "sea_surface_foundation_temperature": "sea_surface_foundation_temperature",
    "analysed_sst": "sea_surface_foundation_temperature",  # the L4 variable name
}


def good_sst(daily: xr.Dataset) -> xr.DataArray:
    """The daily ``sst`` of ``synthetic_sst`` where quality_level >= 4 (kelvin, NaN elsewhere)."""
    return daily["sst"].where(daily["quality_level"] >= 4)


def write_ghrsst_l3(daily: xr.Dataset, directory, *, variable: str = "sea_surface_temperature",
                    units: str = "kelvin", lat_descending: bool = False) -> list[Path]:
    """Write ``synthetic_sst`` daily output as GHRSST L3S files, one per day, as distributed.

    Each file holds one day: ``time`` (int32 seconds since 1981-01-01), float32 ``lat`` and
    ``lon``, the SST ``variable`` packed as int16 (scale_factor 0.01, add_offset 273.15,
    _FillValue -32768) with all retrievals in it (cold-biased ones included), the byte
    ``quality_level`` 0-5 that tells them apart, and the other L3 layers (``sses_bias``,
    ``sses_standard_deviation``, ``l2p_flags``) whose units are also kelvin. The standard
    name follows the variable: subskin for ``sea_surface_temperature``, foundation for
    ``sea_surface_foundation_temperature`` and ``analysed_sst``, none for another name.
    File names follow the GDS 2.0 pattern, e.g.
    ``20210101000000-SSTFILL-L3S_GHRSST-SSTsubskin-SYNTH-v02.0-fv01.0.nc``.
    """
    import cftime
    import netCDF4

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    standard_name = _GHRSST_STANDARD_NAMES.get(variable)
    kind = "SSTfnd" if standard_name == "sea_surface_foundation_temperature" else "SSTsubskin"
    rows = slice(None, None, -1) if lat_descending else slice(None)
    lat, lon = daily["lat"].values[rows], daily["lon"].values
    land = land_mask(lat, lon)
    paths = []
    for t in range(daily.sizes["time"]):
        day = daily["time"].values[t]
        stamp = _as_datetime(day)
        seconds = cftime.date2num(stamp, GHRSST_TIME_UNITS, calendar="standard")
        kelvin = daily["sst"].values[t][rows]
        quality = daily["quality_level"].values[t][rows]
        path = directory / (f"{stamp:%Y%m%d}000000-SSTFILL-L3S_GHRSST-{kind}-SYNTH-v02.0-fv01.0.nc")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
            nc.createDimension("time", 1)
            nc.createDimension("lat", lat.size)
            nc.createDimension("lon", lon.size)
            var = nc.createVariable("time", "i4", ("time",))
            var.setncatts({"long_name": "reference time of sst file", "standard_name": "time", "axis": "T",
                           "units": GHRSST_TIME_UNITS, "calendar": "gregorian"})
            var[:] = int(round(seconds))
            for name, values, attrs in (
                ("lat", lat, {"long_name": "latitude", "standard_name": "latitude", "axis": "Y",
                              "units": "degrees_north", "valid_min": np.float32(-90), "valid_max": np.float32(90)}),
                ("lon", lon, {"long_name": "longitude", "standard_name": "longitude", "axis": "X",
                              "units": "degrees_east", "valid_min": np.float32(-180), "valid_max": np.float32(360)}),
            ):
                var = nc.createVariable(name, "f4", (name,))
                var.setncatts(attrs)
                var[:] = values
            dims, chunks = ("time", "lat", "lon"), (1, lat.size, lon.size)
            sst = nc.createVariable(variable, "i2", dims, fill_value=np.int16(-32768), zlib=True, chunksizes=chunks)
            sst.setncatts({
                "long_name": "sea surface sub-skin temperature" if kind == "SSTsubskin"
                else "sea surface foundation temperature",
                **({"standard_name": standard_name} if standard_name else {}),
                "units": units, "add_offset": np.float32(273.15), "scale_factor": np.float32(0.01),
                "valid_min": np.int16(-200), "valid_max": np.int16(5000), "comment": "SST obtained by regression",
                "coordinates": "lon lat", "source": "SSTFILL-SYNTH",
            })
            sst.set_auto_maskandscale(False)
            sst[0] = _pack(kelvin, 273.15, 0.01, -32768)
            ql = nc.createVariable("quality_level", "i1", dims, fill_value=np.int8(-128), zlib=True, chunksizes=chunks)
            ql.setncatts({"long_name": "quality level of SST pixel", "coordinates": "lon lat",
                          "valid_min": np.int8(0), "valid_max": np.int8(5),
                          "flag_values": np.arange(6, dtype=np.int8),
                          "flag_meanings": "no_data bad_data worst_quality low_quality acceptable_quality best_quality"})
            ql[0] = quality
            for name, scale, offset, value in (("sses_bias", 0.016, 0.0, 0.0), ("sses_standard_deviation", 0.01, 1.0, 0.3)):
                var = nc.createVariable(name, "i1", dims, fill_value=np.int8(-128), zlib=True, chunksizes=chunks)
                var.setncatts({"long_name": f"SSES {name[5:].replace('_', ' ')} error", "units": "kelvin",
                               "add_offset": np.float32(offset), "scale_factor": np.float32(scale),
                               "valid_min": np.int8(-127), "valid_max": np.int8(127), "coordinates": "lon lat"})
                var.set_auto_maskandscale(False)
                var[0] = _pack(np.where(np.isfinite(kelvin), value, np.nan), offset, scale, -128, np.int8)
            flags = nc.createVariable("l2p_flags", "i2", dims, zlib=True, chunksizes=chunks)
            flags.setncatts({"long_name": "L2P flags", "coordinates": "lon lat", "valid_min": np.int16(0),
                             "valid_max": np.int16(32767), "flag_masks": np.array([1, 2, 4, 8], np.int16),
                             "flag_meanings": "microwave land ice lake"})
            flags[0] = np.where(land, 2, 0).astype(np.int16)
            nc.setncatts({
                "Conventions": "CF-1.7, ACDD-1.3", "title": "Synthetic L3S sea surface temperature (sstfill test data)",
                "summary": "Gappy daily SST laid out as a GHRSST GDS 2.0 L3S file; synthetic, not observed.",
                "processing_level": "L3S", "gds_version_id": "2.0", "file_quality_level": np.int32(3),
                "platform": "SYNTH", "sensor": "SYNTH", "source": str(daily.attrs.get("source", "")),
                "time_coverage_start": f"{stamp:%Y%m%dT000000Z}", "time_coverage_end": f"{stamp:%Y%m%dT235959Z}",
            })
        paths.append(path)
    return paths


def write_era5_like(daily: xr.Dataset, path, *, celsius: bool = False, with_lsm: bool = False) -> Path:
    """Write the good daily SST as an ERA5 download from the CDS looks (netCDF4 since 2024).

    ``valid_time`` (int64 seconds since 1970), ``latitude`` descending, ``longitude``
    0..360 (the generator's columns reordered), ``sst`` float32 with NaN over land and
    ``standard_name = "unknown"`` as the CDS writes it, units K (degC with ``celsius``),
    and the scalar ``number`` and per-time ``expver`` coordinates. ``with_lsm`` adds the
    land-sea mask ``lsm(valid_time, latitude, longitude)`` (fraction of land) from the
    bundled coastline.
    """
    sst = good_sst(daily)
    lon360 = np.mod(daily["lon"].values, 360.0)
    order = np.argsort(lon360, kind="stable")
    sst = sst.isel(lon=order, lat=slice(None, None, -1)).assign_coords(lon=lon360[order])
    values = sst.values - np.float32(273.15) if celsius else sst.values
    lat, lon = sst["lat"].values, sst["lon"].values
    dims = ("valid_time", "latitude", "longitude")
    grib = {"GRIB_paramId": np.int64(34), "GRIB_shortName": "sst", "GRIB_name": "Sea surface temperature",
            "GRIB_gridType": "regular_ll", "GRIB_missingValue": 3.4028234663852886e38}
    data = {"sst": (dims, values.astype(np.float32),
                    {**grib, "long_name": "Sea surface temperature", "units": "degC" if celsius else "K",
                     "standard_name": "unknown"})}
    if with_lsm:
        lsm = np.broadcast_to(land_mask(lat, lon).astype(np.float32), values.shape)
        data["lsm"] = (dims, lsm, {"GRIB_paramId": np.int64(172), "GRIB_shortName": "lsm",
                                   "long_name": "Land-sea mask", "units": "(0 - 1)", "standard_name": "land_binary_mask"})
    ds = xr.Dataset(
        data,
        coords={
            "number": ((), np.int64(0), {"long_name": "ensemble member numerical id", "units": "1",
                                         "standard_name": "realization"}),
            "valid_time": ("valid_time", sst["time"].values, {"long_name": "time", "standard_name": "time"}),
            "latitude": ("latitude", lat, {"units": "degrees_north", "standard_name": "latitude",
                                           "long_name": "latitude", "stored_direction": "decreasing"}),
            "longitude": ("longitude", lon, {"units": "degrees_east", "standard_name": "longitude",
                                             "long_name": "longitude"}),
            "expver": ("valid_time", np.full(sst.sizes["time"], "0001"), {"long_name": "Experiment Version"}),
        },
        attrs={"GRIB_centre": "ecmf", "GRIB_centreDescription": "European Centre for Medium-Range Weather Forecasts",
               "Conventions": "CF-1.7", "institution": "European Centre for Medium-Range Weather Forecasts",
               "history": "synthetic ERA5-like file written by sstfill.testing.write_era5_like"},
    )
    encoding = {"valid_time": {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian",
                               "dtype": "int64"},
                "latitude": {"_FillValue": None}, "longitude": {"_FillValue": None},
                "sst": {"_FillValue": np.float32(np.nan), "zlib": True, "complevel": 1,
                        "chunksizes": (1, lat.size, lon.size)}}
    if with_lsm:
        encoding["lsm"] = {"_FillValue": np.float32(np.nan)}
    path = Path(path)
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


def write_cmip_tos(daily: xr.Dataset, path) -> Path:
    """Write the good daily SST as CMIP6 ``tos`` on a regular grid (table Oday, grid_label gr).

    ``tos`` in degC with _FillValue and missing_value 1e20; daily means stamped at noon with
    ``time_bnds``; ``time`` in days since 1850-01-01 in the calendar the generator was run in
    (``synthetic_sst(..., calendar="noleap" | "360_day" | "all_leap")``); longitude 0..360
    with ``lat_bnds``/``lon_bnds``; the usual CMIP global attributes.
    """
    import cftime

    sst = good_sst(daily)
    lon360 = np.mod(daily["lon"].values, 360.0)
    order = np.argsort(lon360, kind="stable")
    sst = sst.isel(lon=order).assign_coords(lon=lon360[order])
    lat, lon = sst["lat"].values, sst["lon"].values
    days = sst["time"].values
    calendar = _calendar_of(daily["time"]) if _is_time(daily["time"]) else "standard"
    units = "days since 1850-01-01"
    start = np.asarray(cftime.date2num([_as_datetime(d, calendar) for d in days], units, calendar=calendar), float)
    tos = np.where(np.isfinite(sst.values), sst.values - np.float32(273.15), np.float32(1e20)).astype(np.float32)
    ds = xr.Dataset(
        {
            "tos": (("time", "lat", "lon"), tos, {
                "standard_name": "sea_surface_temperature", "long_name": "Sea Surface Temperature",
                "comment": "Temperature of upper boundary of the liquid ocean.", "units": "degC",
                "cell_methods": "area: mean where sea time: mean", "cell_measures": "area: areacello",
                "missing_value": np.float32(1e20)}),
            "time_bnds": (("time", "bnds"), np.stack([start, start + 1.0], axis=1)),
            "lat_bnds": (("lat", "bnds"), _edges(lat)),
            "lon_bnds": (("lon", "bnds"), _edges(lon)),
        },
        coords={
            "time": ("time", start + 0.5, {"bounds": "time_bnds", "axis": "T", "long_name": "time",
                                           "standard_name": "time", "units": units, "calendar": calendar}),
            "lat": ("lat", lat, {"bounds": "lat_bnds", "units": "degrees_north", "axis": "Y",
                                 "long_name": "Latitude", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"bounds": "lon_bnds", "units": "degrees_east", "axis": "X",
                                 "long_name": "Longitude", "standard_name": "longitude"}),
        },
        attrs={"Conventions": "CF-1.7 CMIP-6.2", "activity_id": "CMIP", "experiment_id": "historical",
               "source_id": "SSTFILL-SYNTH", "institution_id": "SSTFILL", "variant_label": "r1i1p1f1",
               "mip_era": "CMIP6", "frequency": "day", "table_id": "Oday", "realm": "ocean", "grid_label": "gr",
               "variable_id": "tos", "grid": "regular 1-D latitude/longitude",
               "title": "SSTFILL-SYNTH output prepared for CMIP6 (synthetic, sstfill test data)"},
    )
    encoding = {"tos": {"_FillValue": np.float32(1e20), "zlib": True, "complevel": 1},
                "time": {"_FillValue": None, "dtype": "float64"}, "time_bnds": {"_FillValue": None},
                "lat": {"_FillValue": None}, "lon": {"_FillValue": None},
                "lat_bnds": {"_FillValue": None}, "lon_bnds": {"_FillValue": None}}
    path = Path(path)
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


def _as_datetime(t, calendar: str = "standard"):
    """A cftime.datetime (or datetime for numpy datetime64) of a generator time value."""
    import cftime

    if isinstance(t, cftime.datetime):
        return t
    stamp = np.datetime64(t, "s").astype(object)
    return stamp if calendar in _STANDARD_CALENDARS else cftime.datetime(*stamp.timetuple()[:6], calendar=calendar)


def _pack(values, offset, scale, fill, dtype=np.int16):
    info = np.iinfo(dtype)
    packed = np.round((np.asarray(values, dtype=np.float64) - offset) / scale)
    packed = np.clip(np.nan_to_num(packed, nan=fill), info.min, info.max)
    return np.where(np.isfinite(values), packed, fill).astype(dtype)


def _edges(centres):
    """(n, 2) cell edges of 1-D regular centres."""
    half = 0.5 * float(np.median(np.diff(centres)))
    return np.stack([centres - half, centres + half], axis=1)
