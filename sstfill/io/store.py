"""The prepared training store: one NetCDF file, chunked by month.

    dimensions: month, day = 31, lat, lon
    variables:
        int   year(month), month_of_year(month)          calendar year and month 1..12
        byte  padded_day(month, day)                     1 where the slot is past the month's length
        float daily(month, day, lat, lon)                daily SST (K), NaN where not valid
        byte  valid(month, day, lat, lon)                1 where daily is a valid observation
        float baseline(month, lat, lon)                  filled monthly composite (K), what the model corrects
        float target(month, lat, lon)                    gap-free monthly truth (K), NaN on land
        short nobs(month, lat, lon)                      valid days in the month
        byte  land_mask(lat, lon)                        1 on land
    attributes: NaN-aware normalisation statistics of the input and target anomalies
        (input_mean, input_std, input_count, target_mean, target_std, target_count), the
        baseline's first fill sigma (baseline_sigma_px) and how it was chosen (baseline_fill),
        the calendar, the grid spacing, periodic_x, history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from sstfill.errors import InputError

STORE_VERSION = 1

FILL_BY_SPACING = "by grid spacing"
"""baseline_fill of a store whose baseline_sigma_px is data.baseline.fill_sigma_px of its grid
spacing. Older stores, without the attribute, were all filled from one fixed sigma."""


class StoreWriter:
    """Writes a store month by month, so memory holds one month at a time."""

    def __init__(self, path: Path, lat: np.ndarray, lon: np.ndarray, n_months: int, max_days: int, attrs: dict):
        self.path = path
        self.nc = netCDF4.Dataset(path, "w", format="NETCDF4")
        nc = self.nc
        ny, nx = lat.size, lon.size
        nc.createDimension("month", n_months)
        nc.createDimension("day", max_days)
        nc.createDimension("lat", ny)
        nc.createDimension("lon", nx)
        nc.createVariable("lat", "f8", ("lat",))[:] = lat
        nc.createVariable("lon", "f8", ("lon",))[:] = lon
        nc["lat"].units, nc["lon"].units = "degrees_north", "degrees_east"
        cy, cx = min(ny, 256), min(nx, 256)
        opts = {"zlib": True, "complevel": 1}
        nc.createVariable("year", "i4", ("month",))
        nc.createVariable("month_of_year", "i1", ("month",))
        nc.createVariable("padded_day", "i1", ("month", "day"))
        nc.createVariable("daily", "f4", ("month", "day", "lat", "lon"), chunksizes=(1, max_days, cy, cx),
                          fill_value=np.float32(np.nan), **opts)
        nc.createVariable("valid", "i1", ("month", "day", "lat", "lon"), chunksizes=(1, max_days, cy, cx), **opts)
        for name in ("baseline", "target"):
            nc.createVariable(name, "f4", ("month", "lat", "lon"), chunksizes=(1, cy, cx),
                              fill_value=np.float32(np.nan), **opts)
        nc.createVariable("nobs", "i2", ("month", "lat", "lon"), chunksizes=(1, cy, cx), **opts)
        nc.createVariable("land_mask", "i1", ("lat", "lon"), **opts)
        nc.setncatts({"sstfill_store_version": STORE_VERSION, **attrs})

    def write_month(self, index: int, *, year: int, month: int, padded: np.ndarray, daily: np.ndarray,
                    baseline: np.ndarray, target: np.ndarray, nobs: np.ndarray) -> None:
        nc = self.nc
        nc["year"][index] = year
        nc["month_of_year"][index] = month
        nc["padded_day"][index] = padded.astype(np.int8)
        nc["daily"][index] = daily
        nc["valid"][index] = np.isfinite(daily).astype(np.int8)
        nc["baseline"][index] = baseline
        nc["target"][index] = target
        nc["nobs"][index] = nobs.astype(np.int16)

    def finish(self, land: np.ndarray, attrs: dict) -> None:
        self.nc["land_mask"][:] = land.astype(np.int8)
        self.nc.setncatts(attrs)
        self.nc.close()


@dataclass
class Store:
    """A prepared store held in memory as numpy arrays (what training reads)."""

    path: Path
    daily: np.ndarray  # (month, day, lat, lon) float32
    baseline: np.ndarray  # (month, lat, lon)
    target: np.ndarray  # (month, lat, lon)
    padded: np.ndarray  # (month, day) bool
    month_of_year: np.ndarray  # (month,) 0..11
    year: np.ndarray
    land: np.ndarray  # (lat, lon) bool
    attrs: dict

    @property
    def n_months(self) -> int:
        return self.daily.shape[0]


def open_store(path: str | Path) -> Store:
    path = Path(path)
    try:
        ds = xr.open_dataset(path, mask_and_scale=False)
    except Exception as exc:
        raise InputError(f"could not read training store {path} ({type(exc).__name__}: {exc}); make it with 'sstfill prepare'") from exc
    with ds:
        if "sstfill_store_version" not in ds.attrs:
            raise InputError(f"expected a store written by 'sstfill prepare' at {path}, found another NetCDF file; run sstfill prepare first")
        return Store(
            path=path,
            daily=ds["daily"].values.astype(np.float32),
            baseline=ds["baseline"].values.astype(np.float32),
            target=ds["target"].values.astype(np.float32),
            padded=ds["padded_day"].values.astype(bool),
            month_of_year=ds["month_of_year"].values.astype(np.int64) - 1,
            year=ds["year"].values.astype(np.int64),
            land=ds["land_mask"].values.astype(bool),
            attrs=dict(ds.attrs),
        )
