"""The gap-free truth: climatology, western-boundary fronts with rings, eddies, synoptic anomalies."""

import numpy as np
import scipy.sparse as sp

from sstfill.testing.fields import _field_1d, _random_field
from sstfill.testing.grid import KM_PER_DEG

FREEZING_K = 271.35


def _truth(rng, rng_eddies, geo, year_frac, stats):
    """The gap-free daily cell-mean SST in kelvin, (time, lat, lon) float32."""
    n = year_frac.size
    sst = _climatology(rng, geo, year_frac, stats)
    front, rings = _fronts(rng, geo, year_frac, stats)
    sst += front
    eddies = _eddies(rng_eddies, geo, n, stats)
    sst += _render_eddies(geo, {k: np.concatenate([eddies[k], rings[k]]) for k in eddies}, n)
    sst += stats.synoptic_K * _random_field(rng, geo, stats.synoptic_km, n, stats.synoptic_days)
    sst += stats.texture_K * _random_field(rng, geo, stats.texture_km, n, stats.texture_days)
    # Smoothly floored at freezing: sea water under ice stays near -1.8 degC.
    return (FREEZING_K + 0.25 * np.logaddexp(0.0, (sst - FREEZING_K) / 0.25)).astype(np.float32)


def _season(year_frac):
    """+1 at the northern SST maximum (end of August), -1 at its minimum (start of March)."""
    return -np.cos(2.0 * np.pi * (year_frac - 0.16))


def _climatology(rng, geo, year_frac, stats):
    """Zonal-mean profile, seasonal cycle, gyre asymmetry and eastern-boundary upwelling."""
    lat = geo.lat[:, None]
    north = lat >= 2.0
    x = np.clip((np.abs(lat - 2.0) - 6.0) / (np.where(north, 80.0, 72.0) - 6.0), 0.0, 1.0)
    mean = FREEZING_K + stats.zonal_contrast_K * np.cos(0.5 * np.pi * x) ** 2
    hemi = np.tanh(lat / 6.0)
    amp = (0.4 + 4.0 * np.sin(np.radians(2.0 * lat)) ** 2) * np.where(north, 1.0, 0.7)
    amp = amp * stats.seasonal_factor
    amp = amp * (1.0 + 0.8 * geo.coast)  # shelf seas swing more
    summer = hemi * _season(year_frac)[:, None, None]  # (time, lat, 1)
    subtropics = np.exp(-(((np.abs(lat) - 25.0) / 15.0) ** 2))
    gyre = rng.uniform(*stats.gyre_K) * subtropics * (np.exp(-geo.west_km / 2500.0)
                                                 - np.exp(-geo.east_km / 2500.0))
    upwelling = (rng.uniform(*stats.upwelling_K)
                 * np.exp(-geo.east_km / rng.uniform(*stats.upwelling_width_km))
                 * np.exp(-(((np.abs(lat) - 27.0) / 9.0) ** 2))
                 * (1.0 - np.exp(-geo.west_km / 2000.0)))
    sst = np.empty((year_frac.size, *geo.land.shape), np.float32)
    for t, summer_t in enumerate(summer):
        sst[t] = mean + gyre + amp * summer_t - upwelling * (1.0 + 0.3 * summer_t)
    return sst


def _fronts(rng, geo, year_frac, stats):
    """A western-boundary-current front per hemisphere, where the grid reaches it, and rings.

    A tanh step of 2-6 K over 50-100 km (by default), strongest off the western coast, minus a broad step so
    that the climatological gradient is concentrated, not added; its path tilts poleward,
    wanders, and meanders that grow downstream propagate east.
    """
    n, ny, nx = year_frac.size, geo.lat.size, geo.lon.size
    out = np.zeros((n, ny, nx), np.float32)
    rings = []
    for hemi, (lo, hi) in ((1.0, (33.0, 42.0)), (-1.0, (38.0, 47.0))):
        lat0 = hemi * rng.uniform(lo, hi)
        jump, width, tilt, speed = (rng.uniform(*stats.front_jump_K),
                                    rng.uniform(*stats.front_width_km), rng.uniform(0.1, 0.3),
                                    rng.uniform(*stats.front_speed_km_day))
        if not geo.lat[0] - 5.0 < lat0 < geo.lat[-1] + 5.0:
            continue
        west, east = geo.at("west", lat0, geo.lon), geo.at("east", lat0, geo.lon)
        strength = jump * (0.35 + 0.65 * np.exp(-west / 2500.0)) * (1 - np.exp(-east / 1500.0))
        slope = 0.0 if geo.periodic else np.clip(tilt * (geo.lon - geo.lon.mean()), -5.0, 5.0)
        wander = _field_1d(rng, geo, lat0, stats.front_wander_scale_km)[0]
        path = lat0 + hemi * slope + stats.front_wander_km * wander / KM_PER_DEG
        meander = (stats.meander_near_km
                   + stats.meander_growth_km * (1.0 - np.exp(-west / 800.0))) / KM_PER_DEG
        axis = path + meander * _field_1d(rng, geo, lat0, stats.meander_scale_km, n,
                                          stats.meander_days, speed)
        broad = np.tanh(hemi * (path[None, :] - geo.lat[:, None]) * KM_PER_DEG / 400.0)
        w = np.sqrt(width**2 + (geo.dy_km[:, None] / np.pi) ** 2)
        winter = 1.0 - 0.2 * hemi * _season(year_frac)
        for t in range(n):
            across = hemi * (axis[t][None, :] - geo.lat[:, None]) * KM_PER_DEG
            out[t] += 0.5 * winter[t] * strength * (np.tanh(across / w) - broad)
        rings.append(_rings(rng, geo, n, hemi, path, strength / jump, stats))
    empty = {k: np.zeros(0) for k in ("lat", "lon", "birth", "life", "amp", "radius",
                                      "c_west", "v_north")}
    return out, {k: np.concatenate([r[k] for r in rings] + [empty[k]]) for k in empty}


def _rings(rng, geo, n_days, hemi, path, strength, stats):
    """Warm rings on the poleward side of a front, cold rings on the equatorward side."""
    length = (geo.lon[-1] - geo.lon[0]) * KM_PER_DEG * np.cos(np.radians(path.mean()))
    k = rng.poisson(length / stats.ring_spacing_km)
    col = rng.integers(0, geo.lon.size, k)
    side = rng.choice([-1.0, 1.0], k)
    life = rng.uniform(*stats.ring_life_days, k)
    ring = {"lat": path[col] + hemi * side * rng.uniform(1.0, 2.5, k), "lon": geo.lon[col],
            "birth": rng.uniform(-life, n_days), "life": life,
            "amp": side * rng.uniform(*stats.ring_amplitude_K, k),
            "radius": rng.uniform(*stats.ring_radius_km, k),
            "c_west": rng.uniform(*stats.ring_drift_km_day, k), "v_north": np.zeros(k)}
    keep = (rng.random(k) < strength[col]) & (geo.at("land", ring["lat"], ring["lon"]) < 0.5)
    return {key: v[keep] for key, v in ring.items()}


def _eddies(rng, geo, n_days, stats):
    """Mesoscale eddies: by default one alive per (250 km)^2 of ocean, Rossby-radius sized, drifting west.

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
    mean_life, min_life = stats.eddy_mean_life_days, stats.eddy_min_life_days
    k = rng.poisson(area / stats.eddy_spacing_km**2 * (n_days + mean_life) / mean_life)
    lat = np.degrees(np.arcsin(rng.uniform(s_lo, s_hi, k)))
    life = min_life + rng.exponential(mean_life - min_life, k)
    amp = rng.uniform(*stats.eddy_amplitude_K, k) * rng.choice([-1.0, 1.0], k)
    sin_lat = np.sin(np.radians(np.maximum(np.abs(lat), 10.0)))
    eddy = {"lat": lat, "lon": lon_lo + rng.uniform(0.0, span, k),
            "birth": rng.uniform(-life, n_days), "life": life,
            "amp": amp * np.where(np.abs(lat) < 10.0, 0.5, 1.0),
            "radius": np.clip(stats.eddy_radius_km / sin_lat
                              * rng.lognormal(0.0, stats.eddy_radius_spread, k),
                              *stats.eddy_radius_clip_km),
            "c_west": (np.clip(0.5 / sin_lat**2, 0.8, 10.0) * rng.uniform(0.6, 1.4, k)
                       * stats.eddy_drift_factor),
            "v_north": (np.sign(lat) * np.where(amp < 0, 1.0, -1.0) * rng.uniform(0.0, 0.8, k)
                        * stats.eddy_drift_factor)}
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
