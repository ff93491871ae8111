"""Open users' daily SST files lazily and check them against sstfill's input contract.

An accepted input looks like this (CDL sketch; names may differ as described below)::

    dimensions:
        time = UNLIMITED ;   // one or more days, any CF calendar
        lat = NY ;           // or latitude; ascending or descending, 1-D
        lon = NX ;           // or longitude; -180..180, 0..360 or a regional span past 180
    variables:
        double time(time) ;  time:units = "days since 2021-01-01" ; time:calendar = "standard" ;
        float lat(lat) ;     lat:units = "degrees_north" ;
        float lon(lon) ;     lon:units = "degrees_east" ;
        float sst(time, lat, lon) ;
            sst:standard_name = "sea_surface_temperature" ;  // or ..._foundation_/_subskin_temperature
            sst:units = "kelvin" ;                            // or K, degC, Celsius
            sst:_FillValue = ... ;                            // gaps: fill value or NaN
        byte quality_level(time, lat, lon) ;                  // optional, GHRSST 0..5

The SST variable is found by CF standard_name, then by common names (sst, analysed_sst,
sea_surface_temperature, tos, ...); ``variable=`` overrides. Values come back in kelvin.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.errors import InputError

log = logging.getLogger(__name__)

SST_STANDARD_NAMES = (
    "sea_surface_temperature",
    "sea_surface_foundation_temperature",
    "sea_surface_subskin_temperature",
    "sea_surface_skin_temperature",
)
SST_COMMON_NAMES = ("sst", "analysed_sst", "sea_surface_temperature", "tos", "SST", "sst_foundation", "TOS")
LAT_NAMES = ("lat", "latitude", "nav_lat", "LAT", "LATITUDE", "y")
LON_NAMES = ("lon", "longitude", "nav_lon", "LON", "LONGITUDE", "x")
KELVIN_UNITS = {"k", "kelvin", "kelvins", "degk", "deg_k", "degrees_k"}
CELSIUS_UNITS = {"degc", "deg_c", "celsius", "degrees_celsius", "degree_celsius", "degrees_c", "c", "°c", "deg c"}
NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")


@dataclass
class DailyInput:
    """Daily SST on the input's own grid, lazily loaded, in kelvin, NaN where not valid."""

    sst: xr.DataArray  # (time, lat, lon), float32 kelvin
    variable: str
    standard_name: str
    sources: list[str]
    land: np.ndarray | None = None  # (lat, lon) True on land, when the file carries a mask
    attrs: dict = field(default_factory=dict)

    @property
    def lat(self) -> np.ndarray:
        return self.sst["lat"].values

    @property
    def lon(self) -> np.ndarray:
        return self.sst["lon"].values

    @property
    def periodic_x(self) -> bool:
        return is_global_longitude(self.lon)

    @property
    def calendar(self) -> str:
        return time_calendar(self.sst["time"])


def expand_paths(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named by paths, directories (their NetCDF files) and glob patterns, in a stable order."""
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.suffix.lower() in NETCDF_SUFFIXES)
            if not matches:
                raise InputError(f"expected NetCDF files (*.nc) in directory {text}, found none; point to the files directly")
            found.extend(matches)
        elif path.exists():
            found.append(path)
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text))
            if not matches:
                raise InputError(f"expected files matching {text!r}, found none; check the pattern")
            found.extend(matches)
        else:
            raise InputError(f"input file {text} does not exist; check the path")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def open_dataset(path: Path, chunks: dict | None = None) -> xr.Dataset:
    """Open one NetCDF file lazily, turning a library failure into an InputError."""
    if not path.is_file():
        raise InputError(f"expected a NetCDF file at {path}, found nothing; check the path")
    try:
        return xr.open_dataset(path, chunks=chunks if chunks is not None else {}, mask_and_scale=True)
    except Exception as exc:  # netCDF4/HDF5 raise many types for truncated or foreign files
        raise InputError(
            f"could not read {path} as NetCDF ({type(exc).__name__}: {exc}); "
            "check the file is a complete NetCDF file (re-download or regenerate it)"
        ) from exc


def find_sst_variable(ds: xr.Dataset, variable: str | None = None, *, where: str = "input") -> str:
    if variable is not None:
        if variable not in ds.data_vars:
            raise InputError(
                f"expected a variable {variable!r} in {where}, found {sorted(map(str, ds.data_vars))}; "
                "pass one of those to --var"
            )
        return variable
    for standard_name in SST_STANDARD_NAMES:
        for name, var in ds.data_vars.items():
            if var.attrs.get("standard_name") == standard_name:
                return str(name)
    for name in SST_COMMON_NAMES:
        if name in ds.data_vars:
            return name
    raise InputError(
        f"expected an SST variable (standard_name sea_surface_temperature or a name like sst, analysed_sst, tos) "
        f"in {where}, found {sorted(map(str, ds.data_vars)) or 'no data variables'}; name it with --var"
    )


def _find_coord(ds: xr.Dataset, names: Sequence[str], standard_name: str) -> str | None:
    for name, var in ds.variables.items():
        if var.attrs.get("standard_name") == standard_name:
            return str(name)
    for name in names:
        if name in ds.variables:
            return name
    return None


def standardise(ds: xr.Dataset, variable: str, *, where: str) -> xr.DataArray:
    """Return the SST variable as (time, lat, lon) with coordinates named lat/lon."""
    da = ds[variable]
    lat_name = _find_coord(ds, LAT_NAMES, "latitude")
    lon_name = _find_coord(ds, LON_NAMES, "longitude")
    if lat_name is None or lon_name is None:
        raise InputError(
            f"expected latitude and longitude coordinates in {where}, found {sorted(map(str, ds.variables))}; "
            "name them lat/lon or give them standard_name latitude/longitude"
        )
    if ds[lat_name].ndim != 1 or ds[lon_name].ndim != 1:
        raise InputError(
            f"expected 1-D latitude/longitude in {where}, found 2-D {lat_name}{ds[lat_name].dims} (a curvilinear grid), "
            "which sstfill does not support; regrid to a regular lat/lon grid first (e.g. cdo remapbil or xESMF)"
        )
    lat_dim, lon_dim = ds[lat_name].dims[0], ds[lon_name].dims[0]
    time_dims = [d for d in da.dims if d not in (lat_dim, lon_dim)]
    if "time" not in da.dims:
        candidates = [d for d in time_dims if d in ds.coords and (np.issubdtype(ds[d].dtype, np.datetime64) or ds[d].dtype == object)]
        if len(candidates) != 1:
            raise InputError(
                f"expected {variable!r} in {where} to have a time dimension, found dimensions {da.dims}; "
                "sstfill needs daily fields (time, lat, lon)"
            )
        da = da.rename({candidates[0]: "time"})
        time_dims = ["time"]
    extra = [d for d in da.dims if d not in ("time", lat_dim, lon_dim)]
    for dim in extra:
        if da.sizes[dim] != 1:
            raise InputError(
                f"expected {variable!r} in {where} to have dimensions (time, lat, lon), found {da.dims}; "
                f"select one level of {dim!r} first (e.g. ncks -d {dim},0)"
            )
        da = da.isel({dim: 0}, drop=True)
    da = da.rename({lat_dim: "lat", lon_dim: "lon"})
    if lat_name != lat_dim:
        da = da.drop_vars(lat_name, errors="ignore")
    if lon_name != lon_dim:
        da = da.drop_vars(lon_name, errors="ignore")
    da = da.assign_coords(lat=("lat", np.asarray(ds[lat_name].values, dtype=np.float64)),
                          lon=("lon", np.asarray(ds[lon_name].values, dtype=np.float64)))
    da = da.transpose("time", "lat", "lon")
    for name in ("lat", "lon"):
        values = da[name].values
        steps = np.diff(values)
        if values.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
            raise InputError(
                f"expected {name} in {where} to be strictly monotonic, found repeated or unordered values; "
                f"sort the file along {name} (e.g. cdo or xarray sortby)"
            )
    return da


def to_kelvin(da: xr.DataArray, *, where: str) -> xr.DataArray:
    units = str(da.attrs.get("units", "")).strip()
    key = units.lower().replace(" ", "_") if units else ""
    if key in KELVIN_UNITS:
        offset = 0.0
    elif key in CELSIUS_UNITS or units.lower() in CELSIUS_UNITS:
        offset = 273.15
    else:
        raise InputError(
            f"expected SST units of kelvin (K) or degrees Celsius (degC) in {where}, found {units!r}; "
            "set the variable's units attribute (e.g. ncatted -a units,sst,o,c,K)"
        )
    attrs = dict(da.attrs)
    out = (da.astype(np.float32) + np.float32(offset)) if offset else da.astype(np.float32)
    attrs["units"] = "K"
    out.attrs = attrs
    return out


def is_global_longitude(lon: np.ndarray) -> bool:
    """True when the longitudes close the circle, so the x axis wraps."""
    if lon.size < 3:
        return False
    step = float(np.median(np.abs(np.diff(lon))))
    return abs(step * lon.size - 360.0) < 0.5 * step


def time_calendar(time: xr.DataArray) -> str:
    calendar = time.encoding.get("calendar") or time.attrs.get("calendar")
    if calendar:
        return str(calendar)
    first = time.values.flat[0] if time.size else None
    return getattr(first, "calendar", "standard") or "standard"


def land_from_mask_variable(ds: xr.Dataset) -> np.ndarray | None:
    """A land mask carried by the file as a 0/1 (or fraction) variable, True on land."""
    for name in ("land_mask", "lsm", "landmask"):
        if name in ds.data_vars:
            values = np.asarray(ds[name].squeeze().values)
            if values.ndim == 2:
                return values > 0.5
    return None


def apply_quality(da: xr.DataArray, ds: xr.Dataset, min_quality: int | None) -> xr.DataArray:
    if min_quality is None or "quality_level" not in ds.data_vars:
        return da
    quality = ds["quality_level"]
    if set(quality.dims) != {"time", *[d for d in quality.dims if d != "time"]}:
        return da
    quality = standardise(ds.assign(_q=quality), "_q", where="quality_level")
    return da.where(quality.fillna(0) >= min_quality)


def open_daily(inputs: Sequence[str | os.PathLike] | str | os.PathLike, *, variable: str | None = None,
               min_quality: int | None = 4) -> DailyInput:
    """Open daily SST from files, directories or globs; lazy (dask), kelvin, sorted by time.

    Raises InputError naming what was expected, what was found and what to do.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = expand_paths(inputs)
    pieces: list[xr.DataArray] = []
    first: xr.DataArray | None = None
    names: list[str] = []
    land = None
    for path in paths:
        ds = open_dataset(path)
        where = str(path)
        name = find_sst_variable(ds, variable, where=where)
        da = apply_quality(standardise(ds, name, where=where), ds, min_quality)
        da = to_kelvin(da, where=where)
        if first is None:
            first = da
            land = land_from_mask_variable(ds)
        elif not (np.array_equal(da["lat"].values, first["lat"].values) and np.array_equal(da["lon"].values, first["lon"].values)):
            raise InputError(
                f"expected all input files on one grid, found {paths[0].name} on {first.sizes['lat']}x{first.sizes['lon']} "
                f"({_grid_text(first)}) and {path.name} on {da.sizes['lat']}x{da.sizes['lon']} ({_grid_text(da)}); "
                "regrid them to a common grid or process them separately"
            )
        names.append(name)
        pieces.append(da)
    assert first is not None
    sst = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="time", coords="minimal", compat="override",
                                                        join="override", combine_attrs="override")
    sst = _sorted_unique_days(sst, paths)
    sst.attrs = dict(first.attrs)
    return DailyInput(sst=sst, variable=names[0], standard_name=str(first.attrs.get("standard_name", "sea_surface_temperature")),
                      sources=[str(p) for p in paths], land=land)


def _grid_text(da: xr.DataArray) -> str:
    lat, lon = da["lat"].values, da["lon"].values
    return f"lat {lat[0]:g}..{lat[-1]:g}, lon {lon[0]:g}..{lon[-1]:g}"


def _sorted_unique_days(sst: xr.DataArray, paths: list[Path]) -> xr.DataArray:
    order = np.argsort(sst["time"].values, kind="stable")
    if not np.all(order == np.arange(order.size)):
        sst = sst.isel(time=order)
    time = sst["time"].dt
    days = list(zip(time.year.values.tolist(), time.month.values.tolist(), time.day.values.tolist()))
    duplicates = sorted({"%04d-%02d-%02d" % day for day, previous in zip(days[1:], days[:-1]) if day == previous})
    if duplicates:
        shown = ", ".join(duplicates[:5]) + (" ..." if len(duplicates) > 5 else "")
        raise InputError(
            f"expected one field per day, found duplicate day(s) {shown} across {len(paths)} file(s); "
            "remove the duplicate files or days"
        )
    return sst
