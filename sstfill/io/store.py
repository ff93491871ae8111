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
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from sstfill.errors import InputError

# Raise it whenever what a store holds changes, so that an older sstfill refuses a newer store with an
# upgrade hint. 1: sstfill 0.1.0; 2 (0.2.0): baseline_sigma_px along y and x, and the attributes
# baseline_fill, absolute_* statistics, training_mode, min_target_days and seed. Version 1 is still read;
# it trains residual models only (absolute ones need the absolute_* statistics).
STORE_VERSION = 2

FILL_BY_SPACING = "by grid spacing"
"""baseline_fill of a store whose baseline_sigma_px is config.fill_sigma_px of its grid
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
        opts: dict[str, Any] = {"zlib": True, "complevel": 1}
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


# What training reads, with the dimensions StoreWriter gives each variable.
STORE_VARIABLES = {
    "daily": ("month", "day", "lat", "lon"),
    "baseline": ("month", "lat", "lon"),
    "target": ("month", "lat", "lon"),
    "padded_day": ("month", "day"),
    "month_of_year": ("month",),
    "year": ("month",),
    "land_mask": ("lat", "lon"),
}
# Normalisation statistics that training pools across stores (data.dataset.pooled_normalisation).
STORE_STATISTICS = ("input", "target")


def open_store(path: str | Path) -> Store:
    """Read a store into memory, refusing any file that is not a whole store of this version."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"expected a training store at {path}, found nothing; make it with 'sstfill prepare'")
    try:
        ds = xr.open_dataset(path, mask_and_scale=False)
    except PermissionError as exc:
        raise InputError(f"expected a readable training store at {path}, found no permission to read it; "
                         "check the file's permissions") from exc
    except Exception as exc:  # the backends raise anything from OSError to ValueError on a damaged file
        raise _damaged(path, "a file that is not readable NetCDF (truncated, corrupt or of another format)") from exc
    with ds:
        _check_structure(path, ds)
        try:
            store = Store(
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
        except (OSError, RuntimeError, ValueError) as exc:  # netCDF4 raises RuntimeError on a corrupt chunk
            raise _damaged(path, f"data that cannot be read ({_first_line(exc)})") from exc
    if not np.all((store.month_of_year >= 0) & (store.month_of_year < 12)):
        raise _damaged(path, "calendar months outside 1..12")
    return store


def baseline_sigma_px(stores: list[Store]) -> float | None:
    """The first gap-fill sigma the stores share, as a model's contract records it: None when every
    store was filled by its grid spacing (as prepare does now), else the one fixed sigma of older stores."""
    sigmas = {None if s.attrs.get("baseline_fill") == FILL_BY_SPACING else float(s.attrs["baseline_sigma_px"])
              for s in stores}
    if len(sigmas) > 1:
        found = sorted(FILL_BY_SPACING if v is None else f"a fixed {v:g} px" for v in sigmas)
        raise InputError(f"expected stores whose baselines were gap-filled alike, found {' and '.join(found)}; "
                         "prepare the older stores again with this sstfill")
    return sigmas.pop()


def _check_structure(path: Path, ds: xr.Dataset) -> None:
    """The version, variables and statistics training needs, before any data is read."""
    version = ds.attrs.get("sstfill_store_version")
    if version is None:
        raise InputError(f"expected a store written by 'sstfill prepare' at {path}, found another NetCDF file; "
                         "run sstfill prepare first")
    if not isinstance(version, (int, np.integer)) or version < 1:
        raise _damaged(path, f"store version {version!r}")
    if version > STORE_VERSION:
        raise InputError(f"expected a training store of version {STORE_VERSION} or older at {path}, found version "
                         f"{version}; upgrade sstfill or re-run 'sstfill prepare' with this one")
    for name, dims in STORE_VARIABLES.items():
        if name not in ds.variables:
            raise _damaged(path, f"no variable {name!r}")
        if ds[name].dims != dims:
            raise _damaged(path, f"variable {name!r} on dimensions {ds[name].dims}, not {dims}")
    if ds.sizes["month"] < 1 or ds.sizes["lat"] < 1 or ds.sizes["lon"] < 1:
        raise _damaged(path, f"an empty store ({dict(ds.sizes)})")
    for prefix in STORE_STATISTICS:
        stats: list[Any] = [ds.attrs.get(f"{prefix}_{stat}") for stat in ("mean", "std", "count")]
        mean, std, count = stats
        if not all(_is_number(v) and np.isfinite(v) for v in (mean, std, count)) or std <= 0 or count <= 0:
            raise _damaged(path, f"normalisation statistics {prefix}_mean, _std, _count = {mean}, {std}, {count}")
    if ds.attrs.get("baseline_fill") != FILL_BY_SPACING and not _is_number(ds.attrs.get("baseline_sigma_px")):
        raise _damaged(path, f"attribute baseline_sigma_px = {ds.attrs.get('baseline_sigma_px')!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _first_line(exc: Exception) -> str:
    """An exception's text fit for a one-line message (xarray's run over several lines)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def _damaged(path: Path, found: str) -> InputError:
    return InputError(f"expected a whole training store at {path}, found {found}: it is damaged or incomplete; "
                      "re-run 'sstfill prepare' to write it again")
