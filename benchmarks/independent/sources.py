"""Readers for the real fields that packages ship; nothing is downloaded.

Each reader returns plain numpy arrays (kelvin for temperatures, NaN on land) with 1-D
ascending latitudes and longitudes in degrees, and raises SourceMissing naming the package
to install when its file is not there. Files are read whole: the largest is 2 MB.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage

NCARG_DIRS = ("/usr/share/ncarg/data/cdf", "/usr/lib/ncarg/data/cdf")
R_LIBRARIES = ("/usr/lib/R/site-library", "/usr/local/lib/R/site-library", "/usr/lib/R/library")
CELSIUS_TO_K = 273.15


class SourceMissing(RuntimeError):
    """A packaged real field is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Field:
    """Values (time, lat, lon) or (lat, lon) on 1-D ascending lat/lon, with their origin."""

    values: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    source: str
    times: np.ndarray | None = None  # datetime64 per time step, when the file has dates


def _package_file(module: str, relative: str, install: str) -> Path:
    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise SourceMissing(f"{module} is not installed: {install}") from exc
    base = Path(getattr(package, "path", None) or os.path.dirname(package.__file__))
    path = base / relative
    if not path.is_file():
        raise SourceMissing(f"{path} is missing from the installed {module}: reinstall it ({install})")
    return path


def _system_file(dirs: tuple[str, ...], relative: str, install: str) -> Path:
    for base in dirs:
        path = Path(base) / relative
        if path.is_file():
            return path
    raise SourceMissing(f"{relative} not found under {', '.join(dirs)}: {install}")


def _ascending(values: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flip the last two axes so that lat and lon increase."""
    if lat[0] > lat[-1]:
        lat, values = lat[::-1], values[..., ::-1, :]
    if lon[0] > lon[-1]:
        lon, values = lon[::-1], values[..., ::-1]
    return np.ascontiguousarray(values), np.asarray(lat, float), np.asarray(lon, float)


@cache
def ostia_monthly() -> Field:
    """OSTIA monthly mean SST, April 2006 - September 2010, 5 S - 5 N, all longitudes.

    From iris-sample-data's ostia_monthly.nc: 54 months on a 0.56 x 0.83 degree grid,
    land as NaN, times at mid-month.
    """
    path = _package_file("iris_sample_data", "ostia_monthly.nc", "pip install iris-sample-data")
    with xr.open_dataset(path) as ds:
        sst = ds["surface_temperature"]
        values, lat, lon = _ascending(sst.values.astype(np.float32), ds["latitude"].values, ds["longitude"].values)
        times = ds["time"].values.astype("datetime64[s]")
    return Field(values, lat, lon, f"OSTIA monthly ({path})", times)


@dataclass(frozen=True)
class BrightnessImage:
    """A satellite brightness-temperature image (kelvin) on its own projected grid."""

    kelvin: np.ndarray  # (y, x), no NaN
    pixel_km: float
    source: str


@cache
def seviri_brightness() -> BrightnessImage:
    """SEVIRI 10.8 micron top-of-atmosphere brightness temperature over the North Atlantic and Europe.

    From iris-sample-data's toa_brightness_stereographic.nc (160 x 256 pixels of 35.5 km on a
    polar stereographic grid, about 31 km on the ground at 50 N). The 8 % of pixels off the
    disk (NaN) take the value of the nearest pixel on it, so crops never see a hole.
    """
    path = _package_file("iris_sample_data", "toa_brightness_stereographic.nc", "pip install iris-sample-data")
    with xr.open_dataset(path) as ds:
        kelvin = ds["data"].values.astype(np.float32)
        pixel_m = float(np.median(np.abs(np.diff(ds["x"].values))))
    missing = ~np.isfinite(kelvin)
    if missing.any():
        index = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
        kelvin = kelvin[tuple(index)]
    scale_50n = 2.0 / (1.0 + np.sin(np.radians(50.0)))  # stereographic scale factor true at the pole
    return BrightnessImage(kelvin, pixel_m / 1000.0 / scale_50n, f"SEVIRI 10.8 um image ({path})")


@cache
def str_climatology() -> Field:
    """The Shea-Trenberth-Reynolds monthly SST climatology (1950-1979) on a 2-degree global grid.

    From NCAR Graphics' sstdata_netcdf.nc (Debian libncarg-data). Defined everywhere (land
    too, extrapolated); -1.8 degC under sea ice. The repeated 360 E column is dropped.
    Time is the calendar month, 1..12.
    """
    path = _system_file(NCARG_DIRS, "sstdata_netcdf.nc", "apt-get install libncarg-data")
    with xr.open_dataset(path, decode_times=False) as ds:
        values, lat, lon = _ascending(ds["sst"].values.astype(np.float32) + np.float32(CELSIUS_TO_K),
                                      ds["lat"].values, ds["lon"].values)
    if np.isclose(lon[-1] - lon[0], 360.0):
        values, lon = values[..., :-1], lon[:-1]
    return Field(values, lat, lon, f"Shea-Trenberth-Reynolds climatology ({path})")


@cache
def land_1deg() -> Field:
    """The NCAR 1-degree land-sea mask as booleans, True on land, lakes, small islands and ice shelves.

    From NCAR Graphics' landsea.nc (Debian libncarg-data): 0 ocean, 1 land, 2 lake, 3 small
    island, 4 ice shelf; cell centres at half degrees.
    """
    path = _system_file(NCARG_DIRS, "landsea.nc", "apt-get install libncarg-data")
    with xr.open_dataset(path) as ds:
        values, lat, lon = _ascending(ds["LSMASK"].values != 0, ds["lat"].values, ds["lon"].values)
    return Field(values, lat, lon, f"NCAR 1-degree land-sea mask ({path})")


@dataclass(frozen=True)
class OisstDay:
    sst: Field  # kelvin, NaN on land
    ice: np.ndarray  # sea-ice concentration 0..1, NaN on land


@cache
def oisst_day() -> OisstDay:
    """One day (31 December 1981) of NOAA OISST v2 (AVHRR only), remapped to 2 degrees.

    From the R package stars' reduced.nc (Debian r-cran-stars): SST and sea-ice
    concentration, land as NaN.
    """
    path = _system_file(tuple(f"{d}/stars/nc" for d in R_LIBRARIES), "reduced.nc", "apt-get install r-cran-stars")
    with xr.open_dataset(path) as ds:
        sst = ds["sst"].isel(time=0, zlev=0)
        ice = ds["ice"].isel(time=0, zlev=0)
        values, lat, lon = _ascending(sst.values.astype(np.float32) + np.float32(CELSIUS_TO_K),
                                      ds["lat"].values, ds["lon"].values)
        ice_values = _ascending(ice.values.astype(np.float32) / 100.0, ds["lat"].values, ds["lon"].values)[0]
        times = np.atleast_1d(ds["time"].values.astype("datetime64[D]"))
    ice_values = np.where(np.isfinite(values), np.nan_to_num(ice_values, nan=0.0), np.nan)
    return OisstDay(Field(values, lat, lon, f"NOAA OISST v2 day ({path})", times), ice_values)


@cache
def hadisst_winter_anomalies() -> Field:
    """HadISST November-March mean SST anomalies of 50 winters, 5-degree grid, North Pacific.

    From the eofs package's example data (sst_ndjfm_anom.nc): 22.5 S - 62.5 N, 117.5 E -
    97.5 W, kelvin anomalies, land as NaN.
    """
    path = _package_file("eofs", "examples/example_data/sst_ndjfm_anom.nc", "pip install eofs")
    with xr.open_dataset(path) as ds:
        values, lat, lon = _ascending(ds["sst"].values.astype(np.float32), ds["latitude"].values,
                                      ds["longitude"].values)
    return Field(values, lat, lon, f"HadISST NDJFM anomalies ({path})")


def available() -> dict[str, str]:
    """{reader name: its source description, or why it is missing}, for reports."""
    out = {}
    for reader in (ostia_monthly, seviri_brightness, str_climatology, land_1deg, hadisst_winter_anomalies):
        try:
            out[reader.__name__] = reader().source
        except SourceMissing as exc:
            out[reader.__name__] = f"MISSING: {exc}"
    try:
        out["oisst_day"] = oisst_day().sst.source
    except SourceMissing as exc:
        out["oisst_day"] = f"MISSING: {exc}"
    return out
