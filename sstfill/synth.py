"""Realistic synthetic SST on demand: daily gappy input and its monthly truth, in the file
forms users hold, for trying sstfill, testing and training without real data.

The generator (sstfill.testing) draws, from one seed: a latitude and seasonal climatology,
a meandering western-boundary front, drifting mesoscale eddies and synoptic anomalies
(scales in km, so any resolution from 0.05 to 1 degree works), the real coastline shipped
with sstfill, and over it spatially correlated persistent clouds with latitude-dependent
cover, swath gaps, patches unseen for a whole month and cold-biased bad retrievals flagged
by a low quality_level.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from sstfill.config import SynthConfig
from sstfill.errors import InputError, OutputError

log = logging.getLogger(__name__)

FORMS = ("cube", "ghrsst", "era5", "cmip")


def synth(out_dir: str | Path, *, lat_min: float, lat_max: float, lon_min: float, lon_max: float,
          resolution_deg: float = SynthConfig.resolution_deg, start: str = SynthConfig.start,
          months: int = SynthConfig.months, seed: int = SynthConfig.seed, cloud_cover: float = SynthConfig.cloud_cover,
          calendar: str = SynthConfig.calendar, form: str = SynthConfig.form) -> tuple[list[Path], Path]:
    """Write daily gappy SST in `form` and the monthly truth (truth.nc) under out_dir.

    Forms: cube (one daily.nc with sst and quality_level), ghrsst (one GHRSST L3S file per
    day under daily/), era5 (daily.nc laid out like an ERA5 download, good values only),
    cmip (daily.nc as CMIP tos in degC, in `calendar`). Returns (daily paths, truth path).
    """
    from sstfill.testing import make_grid, synthetic_sst, write_cmip_tos, write_era5_like, write_ghrsst_l3, write_netcdf

    if form not in FORMS:
        raise InputError(f"expected a form among {', '.join(FORMS)}, found {form!r}; pass one of those to --form")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise OutputError(f"expected an empty or new directory for the synthetic data, found {out_dir} with files in "
                          "it; choose another directory")
    try:
        lat, lon = make_grid(lat_min, lat_max, lon_min, lon_max, resolution_deg)
        daily, truth = synthetic_sst(lat, lon, start=start, n_months=months, seed=seed, cloud_cover=cloud_cover,
                                     calendar=calendar)
    except ValueError as exc:
        raise InputError(f"cannot generate that data: {exc}") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    if form == "cube":
        daily_paths = [write_netcdf(daily, out_dir / "daily.nc")]
    elif form == "ghrsst":
        (out_dir / "daily").mkdir()
        daily_paths = write_ghrsst_l3(daily, out_dir / "daily")
    elif form == "era5":
        daily_paths = [write_era5_like(daily, out_dir / "daily.nc")]
        # the truth on the same grid as the input: latitude descending, longitude 0..360
        truth = truth.assign_coords(lon=np.mod(truth["lon"], 360.0)).sortby("lon").sortby("lat", ascending=False)
    else:
        daily_paths = [write_cmip_tos(daily, out_dir / "daily.nc")]
    truth_path = write_netcdf(truth, out_dir / "truth.nc")
    log.info("wrote %d daily file(s) and %s: %d x %d grid at %g degree, %d month(s) from %s, seed %d",
             len(daily_paths), truth_path, lat.size, lon.size, resolution_deg, months, start, seed)
    return daily_paths, truth_path
