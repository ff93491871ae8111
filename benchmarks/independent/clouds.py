"""Where a polar-orbiting infrared radiometer sees no sea: real cloud shapes and swath gaps.

Clouds are the shapes of a real SEVIRI 10.8 micron scene: cloud where the brightness
temperature is below 280 K. Cover is set by growing or shrinking those shapes (a threshold
on the signed distance to the 280 K edge, as cloud screening dilates a mask), so the
shapes stay real at any cover. Day to day the scene drifts and turns (weather systems
moving for a few days), then a new place, angle and handedness of the mirror-tiled scene
starts a new weather regime; a second, slow layer of the same shapes stands for
persistent decks that hide some sea for weeks.

Swath gaps are straight, slanted stripes between successive passes, narrowing poleward as
the passes converge, shifting each day by the golden ratio of the pass spacing; now and
then a whole day is lost to an instrument outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import ndimage

from .regrid import KM_PER_DEGREE, pixel_km
from .sampling import random_view, sample
from .sources import seviri_brightness

CLOUD_TOP_K = 280.0
"""Brightness temperatures below this are cloud (a cold cloud top over a warmer sea)."""

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


@cache
def cloud_edge_distance() -> tuple[np.ndarray, float]:
    """(signed distance to the 280 K cloud edge in scene pixels, positive inside cloud; pixel size in km)."""
    image = seviri_brightness()
    cloudy = image.kelvin < CLOUD_TOP_K
    signed = ndimage.distance_transform_edt(cloudy) - ndimage.distance_transform_edt(~cloudy)
    return signed.astype(np.float32), image.pixel_km


def seviri_clouds(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *, cover: float,
                  cover_spread: float = 0.1, persistent: tuple[float, float] = (0.05, 0.2)) -> np.ndarray:
    """(n_days, lat, lon) cloud masks whose daily cover scatters around `cover` (0..1).

    Two layers of real cloud shapes: weather that moves on (_cloud_layer with regimes of 2-7
    days drifting 100-600 km a day) and a persistent deck (regimes of 20-40 days drifting
    5-30 km a day, covering a `persistent` share drawn from the range), which leaves some
    sea unseen for weeks. The moving layer's cover is set so that both together cover
    `cover` plus Gaussian scatter of cover_spread a day.
    """
    deck_cover = min(rng.uniform(*persistent), 0.9 * cover)
    deck = _cloud_layer(rng, lat, lon, n_days, np.full(n_days, deck_cover), (20, 40), (5.0, 30.0))
    daily = np.clip(cover + cover_spread * rng.standard_normal(n_days), 0.02, 0.98)
    moving = np.clip(1.0 - (1.0 - daily) / (1.0 - deck_cover), 0.01, 0.98)
    return deck | _cloud_layer(rng, lat, lon, n_days, moving, (2, 7), (100.0, 600.0))


def _cloud_layer(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, cover: np.ndarray,
                 regime_days: tuple[int, int], drift_km_day: tuple[float, float]) -> np.ndarray:
    """Cloud masks of the given daily cover from the mirror-tiled scene: each regime lasts
    regime_days (drawn), drifting drift_km_day in one direction and turning up to 3 degrees
    a day, then a new place, angle and handedness of the scene starts the next."""
    signed, scene_km = cloud_edge_distance()
    dy, dx = pixel_km(lat, lon)
    scale = (dy / scene_km, dx / scene_km)
    shape = (lat.size, lon.size)
    out = np.empty((n_days, *shape), bool)
    left, view, step = 0, None, (0.0, 0.0, 0.0)
    for t in range(n_days):
        if left <= 0:
            view = random_view(rng, signed.shape, scale)
            left = int(rng.integers(regime_days[0], regime_days[1] + 1))
            speed, heading = rng.uniform(*drift_km_day) / scene_km, rng.uniform(0.0, 2.0 * np.pi)
            step = (speed * np.sin(heading), speed * np.cos(heading), np.radians(rng.uniform(-3.0, 3.0)))
        else:
            view = view.moved(*step)
        left -= 1
        distance = sample(signed, view, shape)
        out[t] = distance > np.quantile(distance, 1.0 - cover[t])
    return out


@dataclass(frozen=True)
class Swaths:
    gap: np.ndarray  # (days, lat, lon) bool: between swaths or on an outage day
    off_nadir: np.ndarray  # (days, lat, lon) float32: 0 under the track, 1 at the swath edge
    pass_id: np.ndarray  # (days, lat, lon) int32: which pass saw the pixel, unique over days


def swath_gaps(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *,
               swath_km: tuple[float, float] = (1800.0, 2600.0), passes_per_day: float = 14.2,
               tilt_deg: tuple[float, float] = (4.0, 14.0), outage_rate: float = 0.03) -> Swaths:
    """Daytime passes of one polar orbiter: swath width and track tilt drawn from the ranges."""
    spacing = 360.0 / passes_per_day
    width = rng.uniform(*swath_km)
    tilt = np.radians(rng.uniform(*tilt_deg))
    start = rng.uniform(0.0, spacing)
    outage = rng.random(n_days) < outage_rate
    lat2 = lat[:, None]
    cos_lat = np.maximum(np.cos(np.radians(lat2)), 0.02)
    along_lon = lon[None, :] + np.tan(tilt) * (lat2 - np.median(lat)) / cos_lat  # slanted stripes
    km_per_deg = KM_PER_DEGREE * cos_lat * np.cos(tilt)
    shape = (n_days, lat.size, lon.size)
    gap = np.empty(shape, bool)
    off_nadir = np.empty(shape, np.float32)
    pass_id = np.empty(shape, np.int32)
    for t in range(n_days):
        track = start + spacing * np.mod(t * GOLDEN, 1.0)
        number = np.floor((along_lon - track) / spacing + 0.5)
        offset_km = np.abs(along_lon - track - number * spacing) * km_per_deg
        off_nadir[t] = np.minimum(offset_km / (0.5 * width), 1.0)
        gap[t] = (offset_km > 0.5 * width) | outage[t]
        pass_id[t] = t * 1000 + np.mod(number, 1000).astype(np.int32)
    return Swaths(gap, off_nadir, pass_id)


def distance_to_cloud(cloud: np.ndarray) -> np.ndarray:
    """(days, lat, lon) distance in grid pixels from each pixel to the nearest cloudy one
    (0 in cloud; large on a cloudless day)."""
    out = np.empty(cloud.shape, np.float32)
    for t, day in enumerate(cloud):
        out[t] = ndimage.distance_transform_edt(~day) if day.any() else np.float32(1e6)
    return out
