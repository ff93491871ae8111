"""The grid: cell centres for a box, random ocean regions, and the grid's geography in km.

``_geometry`` measures the grid in km and looks up, on a coarser band round the globe, the
bundled coastline and the smooth distances to the continents to the west and east, so a
region sees the coasts beyond its edges.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sstfill.io.coastline import land_mask

KM_PER_DEG = 111.195


def make_grid(lat_min: float, lat_max: float, lon_min: float, lon_max: float,
              resolution_deg: float, lon_resolution_deg: float | None = None,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Return cell-centre 1-D (lat, lon) for a box; a 360-degree lon span is a global grid.

    ``lon_resolution_deg`` (default ``resolution_deg``) gives cells that are not square in
    degrees, as many products have."""
    lon_res = resolution_deg if lon_resolution_deg is None else lon_resolution_deg
    if resolution_deg <= 0 or lon_res <= 0 or lat_max <= lat_min or lon_max <= lon_min:
        raise ValueError(
            f"expected lat_min < lat_max, lon_min < lon_max and resolutions > 0, got "
            f"{(lat_min, lat_max, lon_min, lon_max, resolution_deg, lon_res)}"
        )
    if lat_min < -90 or lat_max > 90 or lon_max - lon_min > 360:
        raise ValueError(f"box {(lat_min, lat_max, lon_min, lon_max)} is not on the sphere")
    n_lat = max(1, round((lat_max - lat_min) / resolution_deg))
    n_lon = max(1, round((lon_max - lon_min) / lon_res))
    lat = lat_min + (np.arange(n_lat) + 0.5) * resolution_deg
    lon = lon_min + (np.arange(n_lon) + 0.5) * lon_res
    return lat, lon


REGION_RESOLUTIONS = (0.05, 0.1, 0.25, 0.25, 0.5, 1.0)


def random_ocean_region(rng, *, min_px=64, max_px=128, resolutions=REGION_RESOLUTIONS, min_ocean=0.5,
                        lon_factor=1.0):
    """A random box of min_px..max_px cells a side, at a resolution drawn from ``resolutions``,
    between 65 S and 65 N, with at least ``min_ocean`` of it ocean in the bundled coastline.
    Longitude steps are ``lon_factor`` times the latitude step (non-square cells).

    Returns (lat, lon, resolution_deg), the latitude step. Used to train and to evaluate on
    many regions."""
    while True:
        res = float(rng.choice(resolutions))
        dlon = res * lon_factor
        ny, nx = (int(n) for n in rng.integers(min_px, max_px + 1, size=2))
        lat0 = float(rng.uniform(-65, 65 - ny * res))
        lon0 = float(rng.uniform(-180, 180))
        lat, lon = make_grid(lat0, lat0 + ny * res, lon0, lon0 + nx * dlon, res, dlon)
        if (~land_mask(lat, lon)).mean() >= min_ocean:
            return lat, lon, res


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
