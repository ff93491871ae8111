"""Where the land is: from a file, from the input itself, or from the bundled coastline.

Order of precedence (documented in the README):
1. ``--land-mask FILE``: a NetCDF file with a 2-D variable (land_mask, lsm, landmask, or its
   only 2-D variable) on the input grid; values > 0.5 are land. The word ``coastline``
   instead of a file selects the bundled 0.05-degree GLOBE coastline.
2. A land-mask variable in the input file (land_mask, lsm, landmask).
3. Otherwise: pixels never valid on any day of the whole input *and* on land in the bundled
   coastline. A pixel with any valid observation is ocean; a never-observed pixel the
   coastline calls ocean (persistent cloud, ice edge) is ocean too and gets filled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.data.coastline import land_mask as coastline_land
from sstfill.errors import InputError
from sstfill.io.read import LAT_NAMES, LON_NAMES, DailyInput, open_dataset

log = logging.getLogger(__name__)

COASTLINE = "coastline"


def read_land_mask(path: str | Path, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    ds = open_dataset(Path(path))
    candidates = [n for n in ("land_mask", "lsm", "landmask") if n in ds.data_vars]
    if not candidates:
        candidates = [str(n) for n, v in ds.data_vars.items() if v.squeeze().ndim == 2]
    if len(candidates) != 1:
        raise InputError(
            f"expected one 2-D land-mask variable (land_mask, lsm or landmask) in {path}, found "
            f"{sorted(map(str, ds.data_vars))}; name the mask variable land_mask"
        )
    mask = ds[candidates[0]].squeeze()
    values = np.asarray(mask.values, dtype=float)
    lat_name = next((n for n in LAT_NAMES if n in mask.coords), None)
    lon_name = next((n for n in LON_NAMES if n in mask.coords), None)
    if values.shape != (lat.size, lon.size) or (
        lat_name and lon_name
        and not (np.allclose(mask[lat_name].values, lat) and np.allclose(mask[lon_name].values, lon))
    ):
        raise InputError(
            f"expected the land mask in {path} on the input grid ({lat.size} x {lon.size}), found {values.shape}"
            f"{' on other coordinates' if values.shape == (lat.size, lon.size) else ''}; regrid the mask to the input grid"
        )
    return np.nan_to_num(values, nan=1.0) > 0.5


def never_valid(sst: xr.DataArray) -> np.ndarray:
    """True where a pixel has no valid value on any day (one lazy pass over the input)."""
    return ~np.asarray(sst.notnull().any("time").values)


def resolve_land(daily: DailyInput, land_mask: str | Path | None = None) -> tuple[np.ndarray, str]:
    """(land (lat, lon) bool, a description of where it came from)."""
    if land_mask is not None and str(land_mask) == COASTLINE:
        return coastline_land(daily.lat, daily.lon), "bundled GLOBE coastline (0.05 degree)"
    if land_mask is not None:
        return read_land_mask(land_mask, daily.lat, daily.lon), f"land-mask file {land_mask}"
    if daily.land is not None:
        return daily.land, "land-mask variable in the input"
    empty = never_valid(daily.sst)
    land = empty & coastline_land(daily.lat, daily.lon)
    if empty.any():
        log.info("%d pixels never observed; %d of them on land in the bundled coastline, the rest filled as ocean",
                 int(empty.sum()), int(land.sum()))
    return land, "never-observed pixels that the bundled coastline calls land"
