"""The horizontal grid of a file: its latitude and longitude axes, checked, and grids compared.

Latitude and longitude are found by standard_name, else by a common name (LAT_NAMES,
LON_NAMES) with units of degrees; they are 1-D, or 2-D on a regular grid. Longitudes that
jump by 360 degrees once (160..180 then -180..-160) are unwrapped to a monotonic axis
(160..200), and a global grid that stores its first meridian again at the end loses that
column. Latitudes lie within -90..90 and the longitudes' cells span at most one turn.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr

from sstfill.errors import InputError

log = logging.getLogger(__name__)

LAT_NAMES = ("lat", "latitude", "nav_lat", "LAT", "LATITUDE", "y")
LON_NAMES = ("lon", "longitude", "nav_lon", "LON", "LONGITUDE", "x")


def find_coord(ds: xr.Dataset, names: Sequence[str], standard_name: str) -> str | None:
    """The latitude or longitude variable: by standard_name, else by name; among those, 1-D before 2-D."""
    found = [str(n) for n, v in ds.variables.items() if v.attrs.get("standard_name") == standard_name]
    found = found or [n for n in names if n in ds.variables and _in_degrees(ds[n])]
    found.sort(key=lambda n: ds[n].ndim != 1)  # stable: keeps the order above among equals
    return found[0] if found else None


def _in_degrees(var: xr.DataArray) -> bool:
    """False for a coordinate whose units say it is not an angle (a projection's x/y in metres)."""
    units = str(var.attrs.get("units", "degrees")).strip().lower()
    return not units or units.startswith(("deg", "°"))


def map_axes(ds: xr.Dataset, *, where: str) -> tuple[Hashable, np.ndarray, Hashable, np.ndarray] | None:
    """(latitude dimension, latitudes, longitude dimension, longitudes) of a file's grid, None
    when it has no latitude or longitude coordinate.

    Longitudes that jump by 360 degrees are unwrapped. A global grid that stores its first
    meridian again at the end (0..360 inclusive) loses that last longitude: every map read
    from the file is cut to the first lon.size columns, so each meridian is read once.
    """
    lat_name = find_coord(ds, LAT_NAMES, "latitude")
    lon_name = find_coord(ds, LON_NAMES, "longitude")
    if lat_name is None or lon_name is None:
        return None
    lat_dim, lat, lon_dim, lon = _horizontal_axes(ds, lat_name, lon_name, where=where)
    lon = _unwrapped_longitude(lon, where)
    if repeats_first_meridian(lon):
        log.debug("longitude %g in %s repeats longitude %g: that column is read once", lon[-1], where, lon[0])
        lon = lon[:-1]
    check_on_the_sphere(lat, lon, where=where)
    return lat_dim, lat, lon_dim, lon


def check_on_the_sphere(lat: np.ndarray, lon: np.ndarray, *, where: str) -> None:
    """Latitudes within -90..90, and longitudes whose cells cover at most 360 degrees: past a
    turn, one meridian would get two columns (two values for the same place). Longitudes out
    of order are left to the monotonic check of the data (a land-mask file may be in any order)."""
    if lat.size and not np.all(np.abs(lat) <= 90.0 + 1e-6):
        raise InputError(
            f"expected latitudes within -90..90 in {where}, found {np.nanmin(lat):g}..{np.nanmax(lat):g}; "
            "fix the latitude coordinate (are latitude and longitude swapped, or the values offset?)"
        )
    steps = np.diff(lon)
    if lon.size < 2 or not (np.all(steps > 0) or np.all(steps < 0)):
        return
    step = float(np.median(np.abs(steps)))
    covered = float(np.nanmax(lon) - np.nanmin(lon)) + step
    if covered > 360.0 + 0.5 * step:  # the tolerance of is_global_longitude
        raise InputError(
            f"expected longitudes covering at most 360 degrees in {where}, found {lon.size} columns of {step:g} "
            "degrees "
            f"from {lon[0]:g} to {lon[-1]:g} ({covered:g} degrees), so some meridians appear twice; "
            "fix the longitude coordinate or cut the grid to one turn (e.g. cdo sellonlatbox,-180,180,-90,90)"
        )


def repeats_first_meridian(lon: np.ndarray) -> bool:
    """True for a global grid whose last longitude is its first again (0..360 inclusive)."""
    return lon.size > 3 and same_longitudes(lon[-1], lon[0]) and is_global_longitude(lon[:-1])


def _horizontal_axes(ds: xr.Dataset, lat_name: str, lon_name: str, *,
                     where: str) -> tuple[Hashable, np.ndarray, Hashable, np.ndarray]:
    """(latitude dimension, latitudes, longitude dimension, longitudes) as 1-D float arrays.

    2-D coordinates are accepted when the grid is regular: latitude constant along one
    dimension and longitude along the other (as some model output and regridders write them).
    """
    lat, lon = ds[lat_name], ds[lon_name]
    if lat.ndim == lon.ndim == 1:
        return lat.dims[0], np.asarray(lat.values, np.float64), lon.dims[0], np.asarray(lon.values, np.float64)
    if lat.ndim == lon.ndim == 2 and set(lat.dims) == set(lon.dims):
        lat_values = np.asarray(lat.values, np.float64)
        lon_values = np.asarray(lon.transpose(*lat.dims).values, np.float64)
        for lat_axis in (0, 1):  # the dimension latitude varies along
            lat_1d = np.asarray(lat_values.take(0, axis=1 - lat_axis))
            lon_1d = np.asarray(lon_values.take(0, axis=lat_axis))
            if (np.allclose(lat_values, np.expand_dims(lat_1d, 1 - lat_axis), rtol=0.0, atol=1e-5)
                    and np.allclose(lon_values, np.expand_dims(lon_1d, lat_axis), rtol=0.0, atol=1e-5)):
                return lat.dims[lat_axis], lat_1d, lat.dims[1 - lat_axis], lon_1d
    two_d = lat_name if lat.ndim != 1 else lon_name
    raise InputError(
        f"expected 1-D latitude/longitude in {where} (or 2-D ones of a regular grid), found {ds[two_d].ndim}-D "
        f"{two_d}{ds[two_d].dims} varying along both dimensions (a curvilinear grid), which sstfill does not support; "
        "regrid to a regular lat/lon grid first (e.g. cdo remapbil or xESMF)"
    )


def _unwrapped_longitude(lon: np.ndarray, where: str) -> np.ndarray:
    """Longitudes that cross the date line as 160..180, -180..-160 become 160..200 (monotonic)."""
    steps = np.diff(lon)
    if lon.size < 2 or np.all(steps > 0) or np.all(steps < 0):
        return lon
    unwrapped = np.unwrap(lon, period=360.0)
    steps = np.diff(unwrapped)
    if np.all(steps > 0) or np.all(steps < 0):
        log.info("longitudes in %s jump by 360 degrees; using them unwrapped, %g..%g", where, unwrapped[0],
                 unwrapped[-1])
        return unwrapped
    return lon


def same_longitudes(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as directions: 200 and -160 are the same meridian."""
    return np.allclose(np.mod(np.asarray(a, float) - np.asarray(b, float) + 180.0, 360.0), 180.0)


def same_grid(a: xr.DataArray, b: xr.DataArray) -> bool:
    """The same latitudes and meridians, in the same order."""
    return (a.sizes["lat"], a.sizes["lon"]) == (b.sizes["lat"], b.sizes["lon"]) and bool(
        np.allclose(a["lat"].values, b["lat"].values) and same_longitudes(a["lon"].values, b["lon"].values))


def is_global_longitude(lon: np.ndarray) -> bool:
    """True when the longitudes close the circle, so the x axis wraps."""
    if lon.size < 3:
        return False
    step = float(np.median(np.abs(np.diff(lon))))
    return abs(step * lon.size - 360.0) < 0.5 * step


def grid_text(da: xr.DataArray) -> str:
    """'NYxNX (lat a..b, lon c..d)', for messages about grids that differ."""
    lat, lon = da["lat"].values, da["lon"].values
    return f"{lat.size}x{lon.size} (lat {lat[0]:g}..{lat[-1]:g}, lon {lon[0]:g}..{lon[-1]:g})"
