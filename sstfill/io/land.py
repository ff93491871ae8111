"""Where the land is: from a file, from the input itself, or from the bundled coastline.

Order of precedence (docs/io.md#land):
1. ``--land-mask FILE``: a NetCDF file with a 2-D mask holding the input grid's points: a variable named
   land_mask, lsm, landmask or sftlf, or with standard_name land_binary_mask /
   land_area_fraction (sea_binary_mask / sea_area_fraction are inverted), or else the file's
   only 2-D variable; land where the land fraction exceeds one half (units "%" are percent).
   The word ``coastline`` instead of a file selects the bundled 0.05-degree GLOBE coastline.
2. Such a mask variable in the input file itself (ERA5's lsm, read at its first time).
3. Otherwise: pixels never valid on any day of the whole input *and* on land in the bundled
   coastline. A pixel with any valid observation is ocean; a never-observed pixel the
   coastline calls ocean (persistent cloud, ice edge) is ocean too and gets filled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.errors import InputError
from sstfill.io.coastline import land_mask as coastline_land
from sstfill.io.daily import DailyInput
from sstfill.io.files import open_dataset
from sstfill.io.grid import map_axes

log = logging.getLogger(__name__)

COASTLINE = "coastline"
LAND_MASK_NAMES = ("land_mask", "lsm", "landmask", "LSM", "sftlf")
LAND_STANDARD_NAMES = ("land_binary_mask", "land_area_fraction")
SEA_STANDARD_NAMES = ("sea_binary_mask", "sea_area_fraction")


def read_land_mask(path: str | Path, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The land mask of a --land-mask file on the input grid, True on land.

    A file with coordinates may hold more points than the input's, in any order (a global
    mask for a regional input, latitude flipped, longitudes -180..180 against 0..360): the
    input's points are picked out. A file without coordinates must have the input's shape.
    """
    ds = open_dataset(Path(path))
    axes = map_axes(ds, where=f"land-mask file {path}")
    land = land_from_mask_variable(ds)
    if land is None:
        # a map: two dimensions, and those of latitude and longitude where the file has such axes (not time_bnds)
        two_d = [str(n) for n, v in ds.data_vars.items() if v.squeeze().ndim == 2
                 and (axes is None or {axes[0], axes[2]} <= set(v.dims))]
        if len(two_d) != 1:
            raise InputError(
                f"expected one 2-D land-mask variable (land_mask, lsm or landmask) in {path}, found "
                f"{sorted(map(str, ds.data_vars))}; name the mask variable land_mask"
            )
        values = first_map(ds, ds[two_d[0]])
        assert values is not None  # two_d holds only maps
        land = np.nan_to_num(values, nan=1.0) > 0.5
    if axes is None:
        if land.shape != (lat.size, lon.size):
            raise InputError(f"expected the land mask in {path} on the input grid ({lat.size} x {lon.size}), "
                             f"found {land.shape}; regrid the mask to the input grid")
        return land
    rows, columns = _positions(axes[1], lat), _positions(axes[3], lon, period=360.0)
    if rows is None or columns is None:
        raise InputError(
            f"expected the land mask in {path} to hold every point of the input grid ({lat.size} x {lon.size}, "
            f"lat {lat[0]:g}..{lat[-1]:g}, lon {lon[0]:g}..{lon[-1]:g}), found a {axes[1].size} x {axes[3].size} grid "
            f"(lat {axes[1][0]:g}..{axes[1][-1]:g}, lon {axes[3][0]:g}..{axes[3][-1]:g}) without some of them; "
            "regrid the mask to the input grid"
        )
    return land[np.ix_(rows, columns)]


def _positions(mask_coord: np.ndarray, coord: np.ndarray, period: float | None = None) -> np.ndarray | None:
    """Index into mask_coord of each value of coord (equal within 1e-4 degree, modulo period),
    or None when some value has no equal."""
    found, wanted = np.asarray(mask_coord, float), np.asarray(coord, float)
    if period:
        found, wanted = np.mod(found, period), np.mod(wanted, period)
    order = np.argsort(found)
    after = np.clip(np.searchsorted(found[order], wanted), 0, found.size - 1)
    before = np.clip(after - 1, 0, found.size - 1)
    nearest = np.where(np.abs(found[order][before] - wanted) < np.abs(found[order][after] - wanted), before, after)
    index = order[nearest]
    gap = np.abs(found[index] - wanted)
    if period:
        gap = np.minimum(gap, period - gap)
    return index if np.all(gap <= 1e-4) else None


def land_from_mask_variable(ds: xr.Dataset) -> np.ndarray | None:
    """A land mask carried by the file, True on land, or None.

    A variable named land_mask, lsm, landmask or sftlf, or with standard_name land_binary_mask,
    land_area_fraction, sea_binary_mask or sea_area_fraction: 0/1 or a fraction (percent when
    its units say %); land where the land fraction exceeds one half. Else the "land" bit of
    a CF flags variable (flag_masks and flag_meanings, as GHRSST's l2p_flags). A mask with a
    time dimension (ERA5's lsm, l2p_flags) is read at its first time.
    """
    for name, var in ds.data_vars.items():
        standard_name = var.attrs.get("standard_name")
        if str(name) not in LAND_MASK_NAMES and standard_name not in LAND_STANDARD_NAMES + SEA_STANDARD_NAMES:
            continue
        values = first_map(ds, var)
        if values is None:
            continue
        if str(var.attrs.get("units", "")).strip() in ("%", "percent"):
            values = values / 100.0
        if standard_name in SEA_STANDARD_NAMES:
            values = 1.0 - values
        log.info("land from the mask variable %r in the input", str(name))
        return np.nan_to_num(values, nan=1.0) > 0.5
    for name, var in ds.data_vars.items():  # CF flags with a land bit, as GHRSST's l2p_flags
        meanings = str(var.attrs.get("flag_meanings", "")).split()
        masks = np.atleast_1d(var.attrs.get("flag_masks", []))
        if "land" not in meanings or len(masks) != len(meanings):
            continue
        values = first_map(ds, var)
        if values is None:
            continue
        log.info("land from the 'land' bit of the flags variable %r in the input", str(name))
        return (np.nan_to_num(values, nan=0.0).astype(np.int64) & int(masks[meanings.index("land")])) != 0
    return None


def first_map(ds: xr.Dataset, var: xr.DataArray) -> np.ndarray | None:
    """The variable's 2-D (lat, lon) map at the first index of any other dimension, as float,
    oriented and cut like the SST (map_axes); None when it is not a map."""
    axes = map_axes(ds, where="the mask's file")
    if axes is not None and {axes[0], axes[2]} <= set(var.dims):
        lat_dim, _, lon_dim, lon = axes
        var = var.isel({d: 0 for d in var.dims if d not in (lat_dim, lon_dim)}).transpose(lat_dim, lon_dim)
        return np.asarray(var.isel({lon_dim: slice(0, lon.size)}).values, dtype=float)
    values = np.asarray(var.squeeze().values, dtype=float)
    return values if values.ndim == 2 else None


def resolve_land(daily: DailyInput, land_mask: str | Path | None = None) -> tuple[np.ndarray, str]:
    """(land (lat, lon) bool, a description of where it came from)."""
    if land_mask is not None and str(land_mask) == COASTLINE:
        return coastline_land(daily.lat, daily.lon), "bundled GLOBE coastline (0.05 degree)"
    if land_mask is not None:
        return read_land_mask(land_mask, daily.lat, daily.lon), f"land-mask file {land_mask}"
    if daily.land is not None:
        return daily.land, "land-mask variable in the input"
    empty = ~daily.validity().observed
    land = empty & coastline_land(daily.lat, daily.lon)
    if empty.any():
        log.info("%d pixels never observed; %d of them on land in the bundled coastline, the rest filled as ocean",
                 int(empty.sum()), int(land.sum()))
    return land, "never-observed pixels that the bundled coastline calls land"


def land_file(land_mask: str | Path | None) -> str | Path | None:
    """The land-mask file the user named, if any (not the bundled coastline)."""
    return None if land_mask is None or str(land_mask) == COASTLINE else land_mask
