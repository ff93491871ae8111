"""A case as files: a daily GHRSST-L3-like input and a monthly truth, both CF NetCDF.

The daily file holds every day of the case in one file, as a GHRSST L3 collated product
would if concatenated: ``sea_surface_temperature`` (kelvin, fill value where nothing was
retrieved, all retrievals in it including the contaminated ones), the byte
``quality_level`` 0-5 that tells them apart, and ``l2p_flags`` whose land and ice bits
say where there is no sea to see (sstfill takes its land mask from the land bit). The
truth file holds ``sst``, the monthly mean of the true daily field, NaN on land, stamped
at mid-month with month-long time bounds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

TIME_UNITS = "days since 1981-01-01 00:00:00"
SST_FILL = np.float32(-32768.0)
QUALITY_FILL = np.int8(-128)
FLAG_LAND, FLAG_ICE = 2, 4


def _coords(lat: np.ndarray, lon: np.ndarray) -> dict:
    return {
        "lat": ("lat", lat.astype(np.float32), {"standard_name": "latitude", "long_name": "latitude",
                                                "units": "degrees_north", "axis": "Y"}),
        "lon": ("lon", lon.astype(np.float32), {"standard_name": "longitude", "long_name": "longitude",
                                                "units": "degrees_east", "axis": "X"}),
    }


def l3_dataset(days: np.ndarray, lat: np.ndarray, lon: np.ndarray, sst: np.ndarray, quality: np.ndarray,
               land: np.ndarray, ice: np.ndarray | None, *, title: str, source: str) -> xr.Dataset:
    """The daily L3-like dataset; days are datetime64[D], stamped at noon."""
    dims = ("time", "lat", "lon")
    flags = np.where(land, FLAG_LAND, 0)[None].astype(np.int16) + np.zeros(sst.shape, np.int16)
    if ice is not None:
        flags |= np.where(ice, FLAG_ICE, 0).astype(np.int16)
    time = days.astype("datetime64[s]") + np.timedelta64(12, "h")
    return xr.Dataset(
        {
            "sea_surface_temperature": (dims, sst.astype(np.float32), {
                "standard_name": "sea_surface_temperature", "long_name": "sea surface temperature", "units": "kelvin",
                "valid_min": np.float32(265.0), "valid_max": np.float32(315.0), "ancillary_variables": "quality_level",
                "comment": "all retrievals, cloud-contaminated ones included; use quality_level >= 4"}),
            "quality_level": (dims, quality.astype(np.int8), {
                "long_name": "quality level of SST pixel", "valid_min": np.int8(0), "valid_max": np.int8(5),
                "flag_values": np.arange(6, dtype=np.int8),
                "flag_meanings": "no_data bad_data worst_quality low_quality acceptable_quality best_quality"}),
            "l2p_flags": (dims, flags, {
                "long_name": "L2P flags", "flag_masks": np.array([1, FLAG_LAND, FLAG_ICE, 8], np.int16),
                "flag_meanings": "microwave land ice lake"}),
        },
        coords={"time": ("time", time, {"standard_name": "time", "long_name": "reference time", "axis": "T"}),
                **_coords(lat, lon)},
        attrs={"Conventions": "CF-1.8", "title": title, "source": source, "processing_level": "L3",
               "comment": "benchmark data of benchmarks/independent; the background is real, the rest simulated"},
    )


def truth_dataset(months: np.ndarray, lat: np.ndarray, lon: np.ndarray, monthly: np.ndarray, *, title: str,
                  source: str) -> xr.Dataset:
    """The monthly truth dataset; months are datetime64[M], times at mid-month with bounds."""
    start, end = months.astype("datetime64[s]"), (months + 1).astype("datetime64[s]")
    middle = start + (end - start) // 2
    return xr.Dataset(
        {"sst": (("time", "lat", "lon"), monthly.astype(np.float32), {
            "standard_name": "sea_surface_temperature", "long_name": "monthly mean sea surface temperature (truth)",
            "units": "K", "cell_methods": "time: mean"}),
         "time_bnds": (("time", "nv"), np.stack([start, end], axis=1))},
        coords={"time": ("time", middle, {"standard_name": "time", "axis": "T", "bounds": "time_bnds"}),
                **_coords(lat, lon)},
        attrs={"Conventions": "CF-1.8", "title": title, "source": source},
    )


def write(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a dataset of this module as NetCDF-4 with CF encodings (fill values, time units)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = {name: {"_FillValue": None} for name in ds.coords}
    encoding["time"] = {"units": TIME_UNITS, "calendar": "standard", "dtype": "float64", "_FillValue": None}
    if "time_bnds" in ds:
        encoding["time_bnds"] = {"units": TIME_UNITS, "calendar": "standard", "dtype": "float64", "_FillValue": None}
    chunks = (1, ds.sizes["lat"], ds.sizes["lon"])
    for name, var in ds.data_vars.items():
        if var.ndim != 3:
            continue
        fill = {"sea_surface_temperature": SST_FILL, "quality_level": QUALITY_FILL}.get(str(name))
        if name == "sst":
            fill = np.float32(np.nan)
        encoding[name] = {"_FillValue": fill, "zlib": True, "complevel": 1, "chunksizes": chunks}
    ds.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path
