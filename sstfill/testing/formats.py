"""Generator output written as files users hold: a plain CF cube, GHRSST L3S, ERA5 and CMIP tos."""

from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.io.coastline import land_mask
from sstfill.testing.times import _as_datetime, _calendar_of, _is_time


def write_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` as zlib-compressed NetCDF4: floats as float32 with NaN fill, CF time."""
    path = Path(path)
    encoding = {}
    for name, var in ds.variables.items():
        enc = {}
        if _is_time(var):
            calendar = _calendar_of(var)
            enc = {"units": "days since 1970-01-01 00:00:00", "calendar": calendar,
                   "dtype": "float64", "_FillValue": None}
        elif name in ds.coords or name in ds.dims:
            enc = {"_FillValue": None}
        elif var.dtype.kind == "f":
            enc = {"dtype": "float32", "_FillValue": np.float32(np.nan)}
        elif var.dtype.kind in "iu":
            enc = {"_FillValue": None}
        if name not in ds.dims and var.ndim >= 2 and var.dtype.kind in "fiu":
            enc.update(zlib=True, complevel=4, shuffle=True)
        encoding[name] = enc
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


GHRSST_TIME_UNITS = "seconds since 1981-01-01 00:00:00"
_GHRSST_STANDARD_NAMES = {
    "sea_surface_temperature": "sea_surface_subskin_temperature",  # the L3S variable name
    "sea_surface_foundation_temperature": "sea_surface_foundation_temperature",
    "analysed_sst": "sea_surface_foundation_temperature",  # the L4 variable name
}


def good_sst(daily: xr.Dataset) -> xr.DataArray:
    """The daily ``sst`` of ``synthetic_sst`` where quality_level >= 4 (kelvin, NaN elsewhere)."""
    return daily["sst"].where(daily["quality_level"] >= 4)


def write_ghrsst_l3(daily: xr.Dataset, directory, *, variable: str = "sea_surface_temperature",
                    units: str = "kelvin", lat_descending: bool = False) -> list[Path]:
    """Write ``synthetic_sst`` daily output as GHRSST L3S files, one per day, as distributed.

    Each file holds one day: ``time`` (int32 seconds since 1981-01-01), float32 ``lat`` and
    ``lon``, the SST ``variable`` packed as int16 (scale_factor 0.01, add_offset 273.15,
    _FillValue -32768) with all retrievals in it (cold-biased ones included), the byte
    ``quality_level`` 0-5 that tells them apart, and the other L3 layers (``sses_bias``,
    ``sses_standard_deviation``, ``l2p_flags``) whose units are also kelvin. The standard
    name follows the variable: subskin for ``sea_surface_temperature``, foundation for
    ``sea_surface_foundation_temperature`` and ``analysed_sst``, none for another name.
    File names follow the GDS 2.0 pattern, e.g.
    ``20210101000000-SSTFILL-L3S_GHRSST-SSTsubskin-SYNTH-v02.0-fv01.0.nc``.
    """
    import cftime
    import netCDF4

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    standard_name = _GHRSST_STANDARD_NAMES.get(variable)
    kind = "SSTfnd" if standard_name == "sea_surface_foundation_temperature" else "SSTsubskin"
    rows = slice(None, None, -1) if lat_descending else slice(None)
    lat, lon = daily["lat"].values[rows], daily["lon"].values
    land = land_mask(lat, lon)
    paths = []
    for t in range(daily.sizes["time"]):
        day = daily["time"].values[t]
        stamp = _as_datetime(day)
        seconds = cftime.date2num(stamp, GHRSST_TIME_UNITS, calendar="standard")
        kelvin = daily["sst"].values[t][rows]
        quality = daily["quality_level"].values[t][rows]
        path = directory / (f"{stamp:%Y%m%d}000000-SSTFILL-L3S_GHRSST-{kind}-SYNTH-v02.0-fv01.0.nc")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
            nc.createDimension("time", 1)
            nc.createDimension("lat", lat.size)
            nc.createDimension("lon", lon.size)
            var = nc.createVariable("time", "i4", ("time",))
            var.setncatts({"long_name": "reference time of sst file", "standard_name": "time", "axis": "T",
                           "units": GHRSST_TIME_UNITS, "calendar": "gregorian"})
            var[:] = int(round(seconds))  # noqa: RUF046 (before NumPy 2, round() of a NumPy float is a float)
            for name, values, attrs in (
                ("lat", lat, {"long_name": "latitude", "standard_name": "latitude", "axis": "Y",
                              "units": "degrees_north", "valid_min": np.float32(-90), "valid_max": np.float32(90)}),
                ("lon", lon, {"long_name": "longitude", "standard_name": "longitude", "axis": "X",
                              "units": "degrees_east", "valid_min": np.float32(-180), "valid_max": np.float32(360)}),
            ):
                var = nc.createVariable(name, "f4", (name,))
                var.setncatts(attrs)
                var[:] = values
            dims, chunks = ("time", "lat", "lon"), (1, lat.size, lon.size)
            sst = nc.createVariable(variable, "i2", dims, fill_value=np.int16(-32768), zlib=True, chunksizes=chunks)
            sst.setncatts({
                "long_name": "sea surface sub-skin temperature" if kind == "SSTsubskin"
                else "sea surface foundation temperature",
                **({"standard_name": standard_name} if standard_name else {}),
                "units": units, "add_offset": np.float32(273.15), "scale_factor": np.float32(0.01),
                "valid_min": np.int16(-200), "valid_max": np.int16(5000), "comment": "SST obtained by regression",
                "coordinates": "lon lat", "source": "SSTFILL-SYNTH",
            })
            sst.set_auto_maskandscale(False)
            sst[0] = _pack(kelvin, 273.15, 0.01, -32768)
            ql = nc.createVariable("quality_level", "i1", dims, fill_value=np.int8(-128), zlib=True, chunksizes=chunks)
            ql.setncatts({"long_name": "quality level of SST pixel", "coordinates": "lon lat",
                          "valid_min": np.int8(0), "valid_max": np.int8(5),
                          "flag_values": np.arange(6, dtype=np.int8),
                          "flag_meanings": "no_data bad_data worst_quality low_quality acceptable_quality "
                                           "best_quality"})
            ql[0] = quality
            sses = (("sses_bias", 0.016, 0.0, 0.0), ("sses_standard_deviation", 0.01, 1.0, 0.3))
            for name, scale, offset, value in sses:
                var = nc.createVariable(name, "i1", dims, fill_value=np.int8(-128), zlib=True, chunksizes=chunks)
                var.setncatts({"long_name": f"SSES {name[5:].replace('_', ' ')} error", "units": "kelvin",
                               "add_offset": np.float32(offset), "scale_factor": np.float32(scale),
                               "valid_min": np.int8(-127), "valid_max": np.int8(127), "coordinates": "lon lat"})
                var.set_auto_maskandscale(False)
                var[0] = _pack(np.where(np.isfinite(kelvin), value, np.nan), offset, scale, -128, np.int8)
            flags = nc.createVariable("l2p_flags", "i2", dims, zlib=True, chunksizes=chunks)
            flags.setncatts({"long_name": "L2P flags", "coordinates": "lon lat", "valid_min": np.int16(0),
                             "valid_max": np.int16(32767), "flag_masks": np.array([1, 2, 4, 8], np.int16),
                             "flag_meanings": "microwave land ice lake"})
            flags[0] = np.where(land, 2, 0).astype(np.int16)
            nc.setncatts({
                "Conventions": "CF-1.7, ACDD-1.3", "title": "Synthetic L3S sea surface temperature (sstfill test data)",
                "summary": "Gappy daily SST laid out as a GHRSST GDS 2.0 L3S file; synthetic, not observed.",
                "processing_level": "L3S", "gds_version_id": "2.0", "file_quality_level": np.int32(3),
                "platform": "SYNTH", "sensor": "SYNTH", "source": str(daily.attrs.get("source", "")),
                "time_coverage_start": f"{stamp:%Y%m%dT000000Z}", "time_coverage_end": f"{stamp:%Y%m%dT235959Z}",
            })
        paths.append(path)
    return paths


def write_era5_like(daily: xr.Dataset, path, *, celsius: bool = False, with_lsm: bool = False) -> Path:
    """Write the good daily SST as an ERA5 download from the CDS looks (netCDF4 since 2024).

    ``valid_time`` (int64 seconds since 1970), ``latitude`` descending, ``longitude``
    0..360 (the generator's columns reordered), ``sst`` float32 with NaN over land and
    ``standard_name = "unknown"`` as the CDS writes it, units K (degC with ``celsius``),
    and the scalar ``number`` and per-time ``expver`` coordinates. ``with_lsm`` adds the
    land-sea mask ``lsm(valid_time, latitude, longitude)`` (fraction of land) from the
    bundled coastline.
    """
    sst = good_sst(daily)
    lon360 = np.mod(daily["lon"].values, 360.0)
    order = np.argsort(lon360, kind="stable")
    sst = sst.isel(lon=order, lat=slice(None, None, -1)).assign_coords(lon=lon360[order])
    values = sst.values - np.float32(273.15) if celsius else sst.values
    lat, lon = sst["lat"].values, sst["lon"].values
    dims = ("valid_time", "latitude", "longitude")
    grib = {"GRIB_paramId": np.int64(34), "GRIB_shortName": "sst", "GRIB_name": "Sea surface temperature",
            "GRIB_gridType": "regular_ll", "GRIB_missingValue": 3.4028234663852886e38}
    data = {"sst": (dims, values.astype(np.float32),
                    {**grib, "long_name": "Sea surface temperature", "units": "degC" if celsius else "K",
                     "standard_name": "unknown"})}
    if with_lsm:
        lsm = np.broadcast_to(land_mask(lat, lon).astype(np.float32), values.shape)
        data["lsm"] = (dims, lsm, {"GRIB_paramId": np.int64(172), "GRIB_shortName": "lsm",
                                   "long_name": "Land-sea mask", "units": "(0 - 1)",
                                   "standard_name": "land_binary_mask"})
    ds = xr.Dataset(
        data,
        coords={
            "number": ((), np.int64(0), {"long_name": "ensemble member numerical id", "units": "1",
                                         "standard_name": "realization"}),
            "valid_time": ("valid_time", sst["time"].values, {"long_name": "time", "standard_name": "time"}),
            "latitude": ("latitude", lat, {"units": "degrees_north", "standard_name": "latitude",
                                           "long_name": "latitude", "stored_direction": "decreasing"}),
            "longitude": ("longitude", lon, {"units": "degrees_east", "standard_name": "longitude",
                                             "long_name": "longitude"}),
            "expver": ("valid_time", np.full(sst.sizes["time"], "0001"), {"long_name": "Experiment Version"}),
        },
        attrs={"GRIB_centre": "ecmf", "GRIB_centreDescription": "European Centre for Medium-Range Weather Forecasts",
               "Conventions": "CF-1.7", "institution": "European Centre for Medium-Range Weather Forecasts",
               "history": "synthetic ERA5-like file written by sstfill.testing.write_era5_like"},
    )
    encoding = {"valid_time": {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian",
                               "dtype": "int64"},
                "latitude": {"_FillValue": None}, "longitude": {"_FillValue": None},
                "sst": {"_FillValue": np.float32(np.nan), "zlib": True, "complevel": 1,
                        "chunksizes": (1, lat.size, lon.size)}}
    if with_lsm:
        encoding["lsm"] = {"_FillValue": np.float32(np.nan)}
    path = Path(path)
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


def write_cmip_tos(daily: xr.Dataset, path) -> Path:
    """Write the good daily SST as CMIP6 ``tos`` on a regular grid (table Oday, grid_label gr).

    ``tos`` in degC with _FillValue and missing_value 1e20; daily means stamped at noon with
    ``time_bnds``; ``time`` in days since 1850-01-01 in the calendar the generator was run in
    (``synthetic_sst(..., calendar="noleap" | "360_day" | "all_leap")``); longitude 0..360
    with ``lat_bnds``/``lon_bnds``; the usual CMIP global attributes.
    """
    import cftime

    sst = good_sst(daily)
    lon360 = np.mod(daily["lon"].values, 360.0)
    order = np.argsort(lon360, kind="stable")
    sst = sst.isel(lon=order).assign_coords(lon=lon360[order])
    lat, lon = sst["lat"].values, sst["lon"].values
    days = sst["time"].values
    calendar = _calendar_of(daily["time"]) if _is_time(daily["time"]) else "standard"
    units = "days since 1850-01-01"
    start = np.asarray(cftime.date2num([_as_datetime(d, calendar) for d in days], units, calendar=calendar), float)
    tos = np.where(np.isfinite(sst.values), sst.values - np.float32(273.15), np.float32(1e20)).astype(np.float32)
    ds = xr.Dataset(
        {
            "tos": (("time", "lat", "lon"), tos, {
                "standard_name": "sea_surface_temperature", "long_name": "Sea Surface Temperature",
                "comment": "Temperature of upper boundary of the liquid ocean.", "units": "degC",
                "cell_methods": "area: mean where sea time: mean", "cell_measures": "area: areacello",
                "missing_value": np.float32(1e20)}),
            "time_bnds": (("time", "bnds"), np.stack([start, start + 1.0], axis=1)),
            "lat_bnds": (("lat", "bnds"), _edges(lat)),
            "lon_bnds": (("lon", "bnds"), _edges(lon)),
        },
        coords={
            "time": ("time", start + 0.5, {"bounds": "time_bnds", "axis": "T", "long_name": "time",
                                           "standard_name": "time", "units": units, "calendar": calendar}),
            "lat": ("lat", lat, {"bounds": "lat_bnds", "units": "degrees_north", "axis": "Y",
                                 "long_name": "Latitude", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"bounds": "lon_bnds", "units": "degrees_east", "axis": "X",
                                 "long_name": "Longitude", "standard_name": "longitude"}),
        },
        attrs={"Conventions": "CF-1.7 CMIP-6.2", "activity_id": "CMIP", "experiment_id": "historical",
               "source_id": "SSTFILL-SYNTH", "institution_id": "SSTFILL", "variant_label": "r1i1p1f1",
               "mip_era": "CMIP6", "frequency": "day", "table_id": "Oday", "realm": "ocean", "grid_label": "gr",
               "variable_id": "tos", "grid": "regular 1-D latitude/longitude",
               "title": "SSTFILL-SYNTH output prepared for CMIP6 (synthetic, sstfill test data)"},
    )
    encoding = {"tos": {"_FillValue": np.float32(1e20), "zlib": True, "complevel": 1},
                "time": {"_FillValue": None, "dtype": "float64"}, "time_bnds": {"_FillValue": None},
                "lat": {"_FillValue": None}, "lon": {"_FillValue": None},
                "lat_bnds": {"_FillValue": None}, "lon_bnds": {"_FillValue": None}}
    path = Path(path)
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


def _pack(values, offset, scale, fill, dtype=np.int16):
    info = np.iinfo(dtype)
    packed = np.round((np.asarray(values, dtype=np.float64) - offset) / scale)
    packed = np.clip(np.nan_to_num(packed, nan=fill), info.min, info.max)
    return np.where(np.isfinite(values), packed, fill).astype(dtype)


def _edges(centres):
    """(n, 2) cell edges of 1-D regular centres."""
    half = 0.5 * float(np.median(np.diff(centres)))
    return np.stack([centres - half, centres + half], axis=1)
