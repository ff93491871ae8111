"""How a daytime polar-orbiter L3 product hides the truth: clouds, swath gaps, patches unseen
for a month, and cold-biased undetected-cloud retrievals flagged by a low quality_level
(or, as ``GeneratorStatistics.unflagged_share`` asks, left at quality 4).
"""

import numpy as np
from scipy import special

from sstfill.testing.fields import _cell_mean_gain, _random_field
from sstfill.testing.grid import KM_PER_DEG
from sstfill.testing.ocean import FREEZING_K

_SWATHS_PER_DAY = 15  # ascending passes in a daily composite (an integer keeps the globe periodic)


def _observe(rng, rng_noise, geo, truth, month_of_day, cloud_cover, stats):
    """Hide the truth as a daytime polar-orbiter L3 product does; return (sst, quality)."""
    n = truth.shape[0]
    p_cloud = _cloud_probability(geo, cloud_cover)
    parts = tuple(zip(stats.cloud_weights, stats.cloud_scales_km, stats.cloud_days, strict=True))
    z = np.zeros(truth.shape, np.float32)
    for w, km, tau in parts:
        part = _random_field(rng, geo, km, n, tau)
        part *= np.float32(w)
        z += part
        del part
    z /= np.sqrt(sum((w * _cell_mean_gain(geo, km)) ** 2 for w, km, _ in parts))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z_cloud = special.ndtri(1.0 - p_cloud)[:, None].astype(np.float32)
        z_edge = special.ndtri(stats.cloud_edge_quantile * (1.0 - p_cloud))[:, None].astype(
            np.float32)
        cloudy = (z > z_cloud) | _unseen_patches(rng, geo, month_of_day, cloud_cover, stats)
        near = z  # 0 in the clear sky, rising to 1 at the cloud edge across its margin
        near -= z_edge
        near /= z_cloud - z_edge
    np.nan_to_num(near, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    off_centre = _swath_offset(rng, geo, n, stats.swath_width_km)
    seen = ~cloudy & (off_centre < 1.0) & ~geo.land & (near <= stats.screening)  # dilates
    edge = seen & (near > 0.0)
    quality = np.where(seen, 5, 0).astype(np.int8)
    quality[edge | (seen & (off_centre > stats.swath_edge))] = 4
    del off_centre, cloudy
    bad = edge & (rng_noise.random(truth.shape, dtype=np.float32) < stats.undetected_share)
    bias = (rng_noise.uniform(0.5, 1.0, bad.sum()) * near[bad] * stats.cloud_bias_K
            + stats.cloud_bias_min_K).astype(np.float32)
    del near  # bias: 0.4-4 K by default, colder nearer the cloud
    flag = np.where(bias > 2.5, 1, np.where(bias > 1.2, 2, 3))
    if stats.unflagged_share > 0.0:  # missed by the cloud screening and the flags: quality 4
        flag[rng_noise.random(flag.size) < stats.unflagged_share] = 4
    quality[bad] = flag
    sst = _random_field(rng_noise, geo, stats.regional_error_km, n, stats.regional_error_days)
    sst *= stats.regional_error_K  # regional retrieval error
    sst += truth
    noise_best, noise_acceptable = (np.float32(stats.pixel_noise_best_K),
                                    np.float32(stats.pixel_noise_acceptable_K))
    for t in range(n):  # pixel noise, larger at acceptable than at best quality
        sst[t] += rng_noise.standard_normal(truth.shape[1:], dtype=np.float32) * np.where(
            quality[t] == 5, noise_best, noise_acceptable)
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


def _unseen_patches(rng, geo, month_of_day, cloud_cover, stats):
    """Persistent cloud blobs that by default hide ~2 % of the ocean for a whole month (more
    if cloudier).

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
        k = rng.poisson(area / stats.unseen_spacing_km**2 * (cloud_cover / 0.6) ** 2)
        centres = rng.uniform([lat_lo, lon_lo], [lat_hi, lon_hi], (k, 2))
        radius = np.maximum(rng.uniform(*stats.unseen_radius_km, k) * np.sqrt(cloud_cover / 0.6),
                            min_radius)
        hidden = np.zeros(geo.land.shape, bool)
        for (lat_c, lon_c), r in zip(centres, radius, strict=True):
            dl = geo.lon[None, :] - lon_c
            if geo.periodic:
                dl = np.mod(dl + 180.0, 360.0) - 180.0
            dx = dl * KM_PER_DEG * np.cos(np.radians(lat_c))
            dy = (geo.lat[:, None] - lat_c) * KM_PER_DEG
            hidden |= np.exp(-0.5 * (dx**2 + dy**2) / r**2) * (1 + 0.4 * outline) > 0.6
        out[month_of_day == month] |= hidden
    return out


def _swath_offset(rng, geo, n_days, width_km):
    """Cross-track distance to the nearest daily ascending pass, in half swath widths.

    Sun-synchronous ground tracks (inclination 98.2 deg) give tilted stripes of missing data
    at low and mid latitudes, shifting by 9/16 of a track spacing each day. A swath width
    range of None stands for a sensor that sees everything every day (geostationary-like).
    """
    if width_km is None:
        return np.zeros((n_days, geo.lat.size, geo.lon.size), np.float32)
    incl, half_width = np.radians(98.2), rng.uniform(*width_km) / 2.0
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
