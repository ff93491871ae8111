"""A real coastline, shipped with the package: land/sea at 0.05 degrees.

Derived from the GLOBE 1-km mask of the global-land-mask package (MIT licence) by
scripts/make_land_mask.py. Cell (i, j) covers latitudes 90 - 0.05 * (i + 1) .. 90 - 0.05 * i
and longitudes -180 + 0.05 * j .. -180 + 0.05 * (j + 1).
"""

from functools import lru_cache
from importlib import resources

import numpy as np

RESOLUTION_DEG = 0.05


@lru_cache(maxsize=1)
def _global_land() -> np.ndarray:
    with resources.files("sstfill.resources").joinpath("land_mask_0.05deg.npz").open("rb") as f:
        stored = np.load(f)
        rows, cols = (int(n) for n in stored["shape"])
        return np.unpackbits(stored["land"], axis=1, count=cols).astype(bool).reshape(rows, cols)


def land_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return a (lat, lon) boolean array, True on land, for 1-D coordinates in degrees.

    Each grid point takes the coastline cell that contains it (nearest-cell sampling);
    longitudes may use any convention (-180..180, 0..360, or beyond).
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    land = _global_land()
    rows, cols = land.shape
    i = np.clip(np.floor((90.0 - lat) / RESOLUTION_DEG).astype(int), 0, rows - 1)
    j = np.floor((np.mod(lon + 180.0, 360.0)) / RESOLUTION_DEG).astype(int) % cols
    return land[np.ix_(i, j)]
