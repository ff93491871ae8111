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
values outside -5..45 degC are missing (``sstfill.io.validate``).
The time dimension may have another name (ERA5's ``valid_time``), or be a scalar time
coordinate of a one-day file. Longitudes that jump by 360 degrees once (160..180 then
-180..-160) are unwrapped to a monotonic axis (160..200). Latitudes lie within -90..90 and
the longitudes' cells span at most one turn (360 degrees). The data are read one day per
dask chunk, so nothing is loaded until a month is needed.

Which files were named, and opening each, is ``sstfill.io.files``; whether the input
holds any valid value to reconstruct from is ``sstfill.io.validate``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.errors import InputError
from sstfill.io.files import expand_paths, open_dataset
from sstfill.io.validate import Validity, check_plausible_values, plausible_only, scan_validity

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
KELVIN_UNITS = {"k", "kelvin", "kelvins"}
CELSIUS_UNITS = {"c", "celsius", "centigrade"}
LAND_MASK_NAMES = ("land_mask", "lsm", "landmask", "LSM", "sftlf")
LAND_STANDARD_NAMES = ("land_binary_mask", "land_area_fraction")
SEA_STANDARD_NAMES = ("sea_binary_mask", "sea_area_fraction")


@dataclass
class DailyInput:
    """Daily SST on the input's own grid, lazily loaded, in kelvin, NaN where not valid
    (missing, below the quality threshold, or outside validate.PLAUSIBLE_SST_K)."""

    sst: xr.DataArray  # (time, lat, lon), float32 kelvin, one day per dask chunk
    variable: str
    standard_name: str
    sources: list[str]
    land: np.ndarray | None = None  # (lat, lon) True on land, when the file carries a mask
    attrs: dict = field(default_factory=dict)
    min_quality: int | None = None  # the quality_level threshold applied, None when the input had none
    pieces: list[tuple[str, xr.DataArray]] = field(default_factory=list, repr=False)  # per file, in file order, all values
    order: np.ndarray | None = field(default=None, repr=False)  # sorts the concatenated pieces by time
    _validity: Validity | None = field(default=None, repr=False)

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
    def grid_steps_deg(self) -> tuple[float, float]:
        """The median latitude and longitude steps in degrees (0 along an axis of one point)."""
        return tuple(float(np.median(np.abs(np.diff(a)))) if a.size > 1 else 0.0 for a in (self.lat, self.lon))

    @property
    def grid_spacing_deg(self) -> float:
        """One spacing for the grid: the geometric mean of its steps (the one step of a single row or column)."""
        steps = [s for s in self.grid_steps_deg if s > 0]
        return float(np.sqrt(np.prod(steps))) if len(steps) == 2 else (steps[0] if steps else 0.0)

    @property
    def calendar(self) -> str:
        return time_calendar(self.sst["time"])

    @property
    def sources_text(self) -> str:
        """The input files, shortened to the first one and a count when there are many."""
        if len(self.sources) <= 3:
            return ", ".join(self.sources)
        return f"{self.sources[0]} and {len(self.sources) - 1} more files"

    def validity(self) -> Validity:
        """Pixels ever valid and valid pixels per day: one lazy pass over the data, cached.

        Reads each file in turn, so a file whose data cannot be read is named in the error.
        """
        if self._validity is None:
            self._validity = scan_validity(self)
        return self._validity


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


def standardise(ds: xr.Dataset, variable: str, *, where: str) -> xr.DataArray:
    """Return the variable as (time, lat, lon), one dask chunk per day, coordinates named time/lat/lon."""
    da = ds[variable].reset_coords(drop=True)
    axes = map_axes(ds, where=where)
    if axes is None:
        raise InputError(
            f"expected latitude and longitude coordinates in degrees in {where}, found {sorted(map(str, ds.variables))}; "
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
    da = _time_dimension(ds, da, variable, lat_dim, lon_dim, where=where)
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
    return da.chunk({"time": 1, "lat": -1, "lon": -1})


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
            f"expected longitudes covering at most 360 degrees in {where}, found {lon.size} columns of {step:g} degrees "
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
            lat_1d = lat_values.take(0, axis=1 - lat_axis)
            lon_1d = lon_values.take(0, axis=lat_axis)
            if (np.allclose(lat_values, np.expand_dims(lat_1d, 1 - lat_axis), rtol=0.0, atol=1e-5)
                    and np.allclose(lon_values, np.expand_dims(lon_1d, lat_axis), rtol=0.0, atol=1e-5)):
                return lat.dims[lat_axis], lat_1d, lat.dims[1 - lat_axis], lon_1d
    two_d = lat_name if lat.ndim != 1 else lon_name
    raise InputError(
        f"expected 1-D latitude/longitude in {where} (or 2-D ones of a regular grid), found {ds[two_d].ndim}-D "
        f"{two_d}{ds[two_d].dims} varying along both dimensions (a curvilinear grid), which sstfill does not support; "
        "regrid to a regular lat/lon grid first (e.g. cdo remapbil or xESMF)"
    )


def _time_dimension(ds: xr.Dataset, da: xr.DataArray, variable: str, lat_dim: str, lon_dim: str, *,
                    where: str) -> xr.DataArray:
    """The variable with its time dimension named "time": another name (valid_time), or a scalar time made a dimension."""
    if "time" not in da.dims:
        others = [d for d in da.dims if d not in (lat_dim, lon_dim)]
        candidates = [d for d in others if d in ds.coords and _is_datetime(ds[d])]
        scalars = [str(n) for n, c in ds.coords.items() if c.ndim == 0 and _is_datetime(c)]
        if len(candidates) == 1:
            da = da.rename({candidates[0]: "time"})
        elif not candidates and len(scalars) == 1:
            da = da.expand_dims(time=[ds[scalars[0]].values[()]])
        else:
            raise InputError(
                f"expected {variable!r} in {where} to have a time dimension, found dimensions {da.dims}"
                f"{' and no time coordinate' if not candidates else ''}; sstfill needs daily fields (time, lat, lon): "
                "add the date as a time dimension (e.g. xarray expand_dims or ncecat -u time)"
            )
    if "time" not in da.coords or not _is_datetime(da["time"]):
        units = ds["time"].attrs.get("units") if "time" in ds.variables else None
        raise InputError(
            f"expected dates on the time axis of {where} (CF units such as 'days since 1981-01-01'), found "
            f"{'units ' + repr(units) if units else 'no decodable time coordinate'}; fix the time variable's units "
            "and calendar attributes"
        )
    return da


def _is_datetime(var: xr.DataArray) -> bool:
    if np.issubdtype(var.dtype, np.datetime64):
        return True
    return var.dtype == object and var.size > 0 and hasattr(var.values.flat[0], "calendar")


def _unwrapped_longitude(lon: np.ndarray, where: str) -> np.ndarray:
    """Longitudes that cross the date line as 160..180, -180..-160 become 160..200 (monotonic)."""
    steps = np.diff(lon)
    if lon.size < 2 or np.all(steps > 0) or np.all(steps < 0):
        return lon
    unwrapped = np.unwrap(lon, period=360.0)
    steps = np.diff(unwrapped)
    if np.all(steps > 0) or np.all(steps < 0):
        log.info("longitudes in %s jump by 360 degrees; using them unwrapped, %g..%g", where, unwrapped[0], unwrapped[-1])
        return unwrapped
    return lon


def to_kelvin(da: xr.DataArray, *, where: str) -> xr.DataArray:
    units = str(da.attrs.get("units", "")).strip()
    scale = temperature_scale(units)
    if scale is None:
        raise InputError(
            f"expected SST units of kelvin (K) or degrees Celsius (degC) in {where}, found {units!r}; "
            "set the variable's units attribute (e.g. ncatted -a units,sst,o,c,K)"
        )
    offset = 273.15 if scale == "celsius" else 0.0
    attrs = dict(da.attrs)
    out = (da.astype(np.float32) + np.float32(offset)) if offset else da.astype(np.float32)
    attrs["units"] = "K"
    out.attrs = attrs
    return out


def temperature_scale(units: str) -> str | None:
    """"kelvin", "celsius" or None for a units string: K, kelvin, degK, degC, degree_C,
    degrees Celsius, deg_C, °C, Celsius ... (case, spaces, underscores and a degree prefix
    do not matter)."""
    key = re.sub(r"[\s_]+", "", units.lower())
    key = re.sub(r"^(degrees|degree|deg|°)", "", key)
    if key in KELVIN_UNITS:
        return "kelvin"
    if key in CELSIUS_UNITS:
        return "celsius"
    return None


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


def time_calendar(time: xr.DataArray) -> str:
    calendar = time.encoding.get("calendar") or time.attrs.get("calendar")
    if calendar:
        return str(calendar)
    first = time.values.flat[0] if time.size else None
    return getattr(first, "calendar", "standard") or "standard"


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


def apply_quality(da: xr.DataArray, ds: xr.Dataset, min_quality: int | None, *, where: str) -> tuple[xr.DataArray, bool]:
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
               min_quality: int | None = 4) -> DailyInput:
    """Open daily SST from files, directories or globs; lazy (dask), kelvin, sorted by time.

    Raises InputError naming what was expected, what was found and what to do.
    """
    if min_quality is not None and not 0 <= min_quality <= 5:
        raise InputError(f"expected --min-quality between 0 and 5 (GHRSST quality levels), found {min_quality}; "
                         "pass 4 (the default) or 5 for the best observations only")
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
        elif not (np.array_equal(da["lat"].values, first["lat"].values) and np.array_equal(da["lon"].values, first["lon"].values)):
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


def grid_text(da: xr.DataArray) -> str:
    """'NYxNX (lat a..b, lon c..d)', for messages about grids that differ."""
    lat, lon = da["lat"].values, da["lon"].values
    return f"{lat.size}x{lon.size} (lat {lat[0]:g}..{lat[-1]:g}, lon {lon[0]:g}..{lon[-1]:g})"


def _sorted_unique_days(sst: xr.DataArray, paths: list[Path]) -> tuple[xr.DataArray, np.ndarray]:
    order = np.argsort(sst["time"].values, kind="stable")
    if not np.all(order == np.arange(order.size)):
        sst = sst.isel(time=order)
    time = sst["time"].dt
    days = list(zip(time.year.values.tolist(), time.month.values.tolist(), time.day.values.tolist()))
    repeated = [day for day, previous in zip(days[1:], days[:-1]) if day == previous]
    if repeated:
        duplicates = sorted({"%04d-%02d-%02d" % day for day in repeated})
        shown = ", ".join(duplicates[:5]) + (f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else "")
        raise InputError(
            f"expected one field per day, found {len(repeated) + len(duplicates)} fields on duplicate day(s) {shown} "
            f"across {len(paths)} file(s); remove the duplicate files or days (for sub-daily data, average to daily "
            "means first, e.g. cdo daymean)"
        )
    return sst, order
