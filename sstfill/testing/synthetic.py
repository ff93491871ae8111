"""``synthetic_sst``: the truth on a grid, observed as L3, as CF Datasets; all from one seed."""

import logging
import time

import numpy as np
import xarray as xr

from sstfill.testing.grid import _geometry
from sstfill.testing.observe import _observe
from sstfill.testing.ocean import _truth
from sstfill.testing.statistics import GeneratorStatistics
from sstfill.testing.times import _time_axes, _year_fraction

log = logging.getLogger(__name__)


def synthetic_sst(lat, lon, *, start: str = "2021-01-01", n_months: int = 3, seed: int = 0,
                  cloud_cover: float = 0.6, calendar: str = "standard",
                  statistics: GeneratorStatistics | None = None,
                  ) -> tuple[xr.Dataset, xr.Dataset]:
    """Return (daily, monthly_truth) Datasets for whole calendar months from ``start``.

    ``daily`` is L3-like: ``sst`` is NaN under cloud, in swath gaps and on land; pixels with
    ``quality_level`` 1-3 hold cold-biased undetected-cloud values, 4-5 are good. The truth is
    the monthly mean of the gap-free daily field that ``daily`` observes. ``statistics``
    (eddy sizes, noise, clouds, flagging; see ``GeneratorStatistics``) defaults to the values
    the generator has always used; with ``unflagged_share`` > 0 some cold-biased values stay
    at quality 4.
    """
    if not 0.0 <= cloud_cover <= 1.0:
        raise ValueError(f"cloud_cover must lie in [0, 1], got {cloud_cover}")
    if int(n_months) != n_months or n_months < 1:
        raise ValueError(f"n_months must be a positive integer, got {n_months}")
    stats = GeneratorStatistics() if statistics is None else statistics
    began = time.perf_counter()
    days, months, month_of_day = _time_axes(start, int(n_months), calendar)
    year_frac = _year_fraction(days)
    geo = _geometry(lat, lon)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    truth = _truth(streams[0], streams[1], geo, year_frac, stats)
    truth[:, geo.land] = np.nan
    monthly = np.stack([truth[month_of_day == m].mean(axis=0) for m in range(len(months) - 1)])
    sst, quality = _observe(streams[2], streams[3], geo, truth, month_of_day, cloud_cover, stats)
    daily_ds, monthly_ds = _datasets(lat, lon, days, months, sst, quality, monthly, seed)
    log.debug("synthetic_sst %s grid, %d days, seed %d: %.2f s", geo.land.shape, len(days),
              seed, time.perf_counter() - began)
    return daily_ds, monthly_ds


def _datasets(lat, lon, days, months, sst, quality, monthly, seed):
    coords = {
        "lat": ("lat", np.asarray(lat, dtype=float),
                {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude",
                 "axis": "Y"}),
        "lon": ("lon", np.asarray(lon, dtype=float),
                {"units": "degrees_east", "standard_name": "longitude",
                 "long_name": "longitude", "axis": "X"}),
    }
    time_attrs = {"standard_name": "time", "long_name": "time", "axis": "T"}
    sst_attrs = {"standard_name": "sea_surface_temperature", "units": "kelvin"}
    attrs = {"Conventions": "CF-1.8", "institution": "sstfill",
             "source": f"sstfill.testing.synthetic_sst, seed {seed} (synthetic, not observed)"}
    dims = ("time", "lat", "lon")
    daily = xr.Dataset(
        {"sst": (dims, sst, {**sst_attrs, "long_name": "daily sea surface temperature (L3-like)",
                             "ancillary_variables": "quality_level"}),
         "quality_level": (dims, quality, {
             "long_name": "quality level of the SST retrieval",
             "flag_values": np.arange(6, dtype=np.int8),
             "flag_meanings": "no_data bad_data worst_quality low_quality acceptable_quality "
                              "best_quality",
             "comment": "keep >= 4; levels 1-3 hold cold-biased (undetected cloud) values"})},
        coords={"time": ("time", np.asarray(days), time_attrs), **coords},
        attrs={**attrs, "title": "Synthetic gappy daily sea surface temperature"})
    starts, ends = np.asarray(months[:-1]), np.asarray(months[1:])
    truth = xr.Dataset(
        {"sst": (dims, monthly.astype(np.float32),
                 {**sst_attrs, "long_name": "monthly mean sea surface temperature (truth)",
                  "cell_methods": "time: mean"}),
         "time_bnds": (("time", "nv"), np.stack([starts, ends], axis=1))},
        coords={"time": ("time", starts, {**time_attrs, "bounds": "time_bnds"}), **coords},
        attrs={**attrs, "title": "Synthetic gap-free monthly mean sea surface temperature"})
    return daily, truth
