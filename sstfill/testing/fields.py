"""Seeded Gaussian random fields on the grid: sizes in km, AR(1) in time, wrapping on a globe.

The building block of the ocean's anomalies and of the clouds that hide them.
"""

import numpy as np
import scipy.sparse as sp

from sstfill.testing.grid import KM_PER_DEG


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
