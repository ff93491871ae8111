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

The SST variable is the one data variable with an SST standard_name or a common SST name
(sst, analysed_sst, sea_surface_temperature, tos, ...); two such are refused, and
``variable=`` (--var) names one. Values come back in kelvin,
whatever way the units spell kelvin or Celsius (K, degC, degree_C, degrees Celsius, ...);
values outside -5..45 degC are missing (``sstfill.io.units``, ``sstfill.io.plausible``).
The time dimension may have another name (ERA5's ``valid_time``), or be a scalar time
coordinate of a one-day file (``sstfill.io.times``). Longitudes that jump by 360 degrees
once (160..180 then -180..-160) are unwrapped to a monotonic axis (160..200). Latitudes lie
within -90..90 and the longitudes' cells span at most one turn (360 degrees)
(``sstfill.io.grid``). The data are read lazily, in dask chunks that hold the days of one
stored chunk (``days_per_chunk``), so nothing is loaded until a month is needed;
``open_daily`` returns them as a ``sstfill.io.daily.DailyInput``, with the land mask the
file carries, if any (``sstfill.io.land``).

Which files were named, and opening each, is ``sstfill.io.files``; whether the input
holds any valid value to reconstruct from is ``sstfill.io.validate``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.config import MIN_QUALITY
from sstfill.errors import InputError
from sstfill.io.daily import DailyInput
from sstfill.io.files import expand_paths, open_dataset
from sstfill.io.grid import grid_text, map_axes
from sstfill.io.land import land_from_mask_variable
from sstfill.io.plausible import check_plausible_values, plausible_only
from sstfill.io.times import time_dimension
from sstfill.io.units import to_kelvin

log = logging.getLogger(__name__)

CHUNK_BYTES = 128 * 2**20
"""A dask chunk of the input holds the days of one stored (compressed) chunk, if they fit in this many bytes.
netCDF decompresses a stored chunk whole: reading one day of an 11-day chunk decompresses all 11."""

SST_STANDARD_NAMES = (
    "sea_surface_temperature",
    "sea_surface_foundation_temperature",
    "sea_surface_subskin_temperature",
    "sea_surface_skin_temperature",
)
SST_COMMON_NAMES = ("sst", "analysed_sst", "sea_surface_temperature", "tos", "SST", "sst_foundation", "TOS")


def find_sst_variable(ds: xr.Dataset, variable: str | None = None, *, where: str = "input",
                      option: str | None = "--var") -> str:
    """The SST variable: ``variable`` when given, else the one data variable that looks like SST.
    ``option`` is the command-line option that names it, for messages (None: there is none).

    A variable looks like SST when its standard_name is an SST one (SST_STANDARD_NAMES) or its
    name is a common SST name (SST_COMMON_NAMES); maps (2-D or more) are preferred over series.
    Two or more such variables (sst and sst_night, say) are refused: picking one by file order
    or by name could silently give the wrong field, so the user names it.
    """
    if variable is not None:
        if variable not in ds.data_vars:
            raise InputError(
                f"expected a variable {variable!r} in {where}, found {sorted(map(str, ds.data_vars))}; "
                f"pass one of those to {option or '--var'}"
            )
        return variable
    candidates = [str(name) for name, var in ds.data_vars.items()
                  if var.attrs.get("standard_name") in SST_STANDARD_NAMES or name in SST_COMMON_NAMES]
    maps = [name for name in candidates if ds[name].ndim >= 2]
    candidates = maps or candidates
    if len(candidates) > 1:
        described = ", ".join(f"{name!r} ({_sst_evidence(ds[name], name)})" for name in candidates)
        advice = (f"name the one to use with {option} (e.g. {option} {candidates[0]})" if option else
                  f"keep only the SST variable in the file (e.g. ncks -v {candidates[0]})")
        raise InputError(f"expected one SST variable in {where}, found {len(candidates)} that look like SST: "
                         f"{described}; {advice}")
    if not candidates:
        advice = f"name it with {option}" if option else "rename it sst (e.g. ncrename -v NAME,sst)"
        raise InputError(
            f"expected an SST variable (standard_name sea_surface_temperature or a name like sst, analysed_sst, tos) "
            f"in {where}, found {sorted(map(str, ds.data_vars)) or 'no data variables'}; {advice}"
        )
    return candidates[0]


def _standard_name_text(var: xr.DataArray) -> str:
    standard_name = var.attrs.get("standard_name")
    return f" (standard_name {standard_name})" if standard_name else ""


def _sst_evidence(var: xr.DataArray, name: str) -> str:
    standard_name = var.attrs.get("standard_name")
    return f"standard_name {standard_name}" if standard_name in SST_STANDARD_NAMES else f"named {name}"


def standardise(ds: xr.Dataset, variable: str, *, where: str) -> xr.DataArray:
    """Return the variable as (time, lat, lon), coordinates named time/lat/lon, in dask chunks of whole maps
    that hold the days of one stored chunk (days_per_chunk)."""
    stored = ds[variable]
    da = stored.reset_coords(drop=True)
    axes = map_axes(ds, where=where)
    if axes is None:
        raise InputError(
            f"expected latitude and longitude coordinates in degrees in {where}, found "
            f"{sorted(map(str, ds.variables))}; "
            "name them lat/lon or give them standard_name latitude/longitude (projected x/y in metres need "
            "regridding to a regular lat/lon grid first, e.g. cdo remapbil or xESMF)"
        )
    lat_dim, lat, lon_dim, lon = axes
    if lat_dim == lon_dim:
        raise InputError(
            f"expected latitude and longitude on two dimensions in {where}, found both along {lat_dim!r} "
            "(an unstructured or point grid), which sstfill does not support; regrid to a regular lat/lon grid first"
        )
    if lat_dim not in da.dims or lon_dim not in da.dims:
        raise InputError(
            f"expected {variable!r} in {where} to vary along {lat_dim!r} and {lon_dim!r} (its latitude and longitude), "
            f"found dimensions {da.dims}; pass the SST variable with --var"
        )
    da = time_dimension(ds, da, variable, lat_dim, lon_dim, where=where)
    extra = [d for d in da.dims if d not in ("time", lat_dim, lon_dim)]
    for dim in extra:
        if da.sizes[dim] != 1:
            raise InputError(
                f"expected {variable!r} in {where} to have dimensions (time, lat, lon), found {da.dims}; "
                f"select one level of {dim!r} first (e.g. ncks -d {dim},0)"
            )
        da = da.isel({dim: 0}, drop=True)
    da = da.drop_vars([n for n in (lat_dim, lon_dim) if n in da.coords]).rename({lat_dim: "lat", lon_dim: "lon"})
    da = da.isel(lon=slice(0, lon.size))  # without a repeated first meridian (map_axes)
    da = da.assign_coords(lat=("lat", lat), lon=("lon", lon)).transpose("time", "lat", "lon")
    for name, values in (("lat", lat), ("lon", lon)):
        steps = np.diff(values)
        if values.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
            raise InputError(
                f"expected {name} in {where} to be strictly monotonic, found repeated or unordered values; "
                f"sort the file along {name} (e.g. cdo or xarray sortby)"
            )
    return da.chunk({"time": days_per_chunk(stored, da, (lat_dim, lon_dim)), "lat": -1, "lon": -1})


def days_per_chunk(stored: xr.DataArray, da: xr.DataArray, map_dims: tuple[Hashable, Hashable]) -> int:
    """Days per dask chunk of `da`, the standardised `stored` variable: its stored chunk length along time,
    when that many whole maps fit in CHUNK_BYTES, else 1."""
    chunks = dict(zip(stored.dims, stored.encoding.get("chunksizes") or (), strict=False))
    along_time = [n for dim, n in chunks.items() if dim not in map_dims and stored.sizes[dim] == da.sizes["time"]]
    days = along_time[0] if len(along_time) == 1 else 1
    map_bytes = da.sizes["lat"] * da.sizes["lon"] * da.dtype.itemsize
    return int(max(1, min(days, CHUNK_BYTES // max(map_bytes, 1))))


def open_monthly(path: str | os.PathLike, variable: str | None = None, *, what: str,
                 option: str | None = "--var") -> tuple[xr.Dataset, xr.DataArray]:
    """A monthly SST file (target, reference, reconstruction): the dataset and its SST as
    (time, lat, lon) in kelvin, lazily. `what` names the file's role in messages, `option`
    the command-line option that names its variable (find_sst_variable)."""
    ds = open_dataset(Path(path))
    where = f"{what} {path}"
    name = find_sst_variable(ds, variable, where=where, option=option)
    log.info("SST of the %s from variable %r%s", where, name, _standard_name_text(ds[name]))
    sst = to_kelvin(standardise(ds, name, where=where), where=where)
    return ds, check_plausible_values(sst, where)


def apply_quality(da: xr.DataArray, ds: xr.Dataset, min_quality: int | None, *,
                  where: str) -> tuple[xr.DataArray, bool]:
    """Keep values whose GHRSST quality_level >= min_quality; (result, whether a threshold was applied)."""
    if min_quality is None or "quality_level" not in ds.data_vars:
        return da, False
    try:
        quality = standardise(ds, "quality_level", where=f"quality_level of {where}")
    except InputError:
        quality = None
    if quality is None or quality.shape != da.shape:
        log.warning("quality_level in %s is not on the SST's (time, lat, lon); it is not applied", where)
        return da, False
    return da.where(quality.fillna(0) >= min_quality), True


def open_daily(inputs: Sequence[str | os.PathLike] | str | os.PathLike, *, variable: str | None = None,
               min_quality: int | None = MIN_QUALITY) -> DailyInput:
    """Open daily SST from files, directories or globs; lazy (dask), kelvin, sorted by time.

    Raises InputError naming what was expected, what was found and what to do.
    """
    if min_quality is not None and not 0 <= min_quality <= 5:
        raise InputError(f"expected --min-quality between 0 and 5 (GHRSST quality levels), found {min_quality}; "
                         f"pass {MIN_QUALITY} (the default) or 5 for the best observations only")
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = expand_paths(inputs)
    pieces: list[tuple[str, xr.DataArray]] = []
    first: xr.DataArray | None = None
    names: list[str] = []
    land = None
    quality_applied = False
    for path in paths:
        ds = open_dataset(path)
        where = str(path)
        name = find_sst_variable(ds, variable, where=where)
        da, applied = apply_quality(standardise(ds, name, where=where), ds, min_quality, where=where)
        quality_applied |= applied
        da = to_kelvin(da, where=where)
        if first is None:
            first = da
            land = land_from_mask_variable(ds)
        elif not all(np.array_equal(da[axis].values, first[axis].values) for axis in ("lat", "lon")):
            raise InputError(
                f"expected all input files on one grid, found {paths[0].name} on {grid_text(first)} "
                f"and {path.name} on {grid_text(da)}; "
                "regrid them to a common grid or process them separately"
            )
        names.append(name)
        pieces.append((str(path), da))
    assert first is not None
    used = ", ".join(f"{name!r} ({names.count(name)} file(s))" for name in dict.fromkeys(names))
    log.info("SST of the input from variable %s%s", used if len(set(names)) > 1 else repr(names[0]),
             _standard_name_text(first))
    arrays = [da for _, da in pieces]
    sst = arrays[0] if len(arrays) == 1 else xr.concat(arrays, dim="time", coords="minimal", compat="override",
                                                        join="override", combine_attrs="override")
    sst, order = _sorted_unique_days(sst, paths)
    sst = plausible_only(sst)  # counted per piece by scan_validity
    sst.attrs = dict(first.attrs)
    standard_name = str(first.attrs.get("standard_name", ""))
    return DailyInput(sst=sst, variable=names[0],
                      standard_name=standard_name if standard_name in SST_STANDARD_NAMES else "sea_surface_temperature",
                      sources=[str(p) for p in paths], land=land, min_quality=min_quality if quality_applied else None,
                      pieces=pieces, order=order)


def _sorted_unique_days(sst: xr.DataArray, paths: list[Path]) -> tuple[xr.DataArray, np.ndarray]:
    order = np.argsort(sst["time"].values, kind="stable")
    if not np.all(order == np.arange(order.size)):
        sst = sst.isel(time=order)
    time = sst["time"].dt
    days = list(zip(time.year.values.tolist(), time.month.values.tolist(), time.day.values.tolist(), strict=True))
    repeated = [day for previous, day in pairwise(days) if day == previous]
    if repeated:
        duplicates = sorted({"{:04d}-{:02d}-{:02d}".format(*day) for day in repeated})
        shown = ", ".join(duplicates[:5]) + (f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else "")
        raise InputError(
            f"expected one field per day, found {len(repeated) + len(duplicates)} fields on duplicate day(s) {shown} "
            f"across {len(paths)} file(s); remove the duplicate files or days (for sub-daily data, average to daily "
            "means first, e.g. cdo daymean)"
        )
    return sst, order
