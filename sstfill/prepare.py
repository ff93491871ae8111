"""Stage 1: daily gappy SST + a gap-free monthly target -> a prepared training store."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill import __version__
from sstfill.data.months import MAX_DAYS, group_months, load_month, padded_days_mask
from sstfill.errors import InputError
from sstfill.io.land import resolve_land
from sstfill.io.output import check_output_path, replace_atomically, temporary_path
from sstfill.io.read import (check_valid_data, expand_paths, find_sst_variable, open_daily, open_dataset, standardise,
                             to_kelvin)
from sstfill.io.store import StoreWriter
from sstfill.progress import track

log = logging.getLogger(__name__)


class RunningMoments:
    """NaN-aware count, mean and standard deviation accumulated over chunks."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.total_sq = 0.0

    def add(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)].astype(np.float64)
        self.count += finite.size
        self.total += float(finite.sum())
        self.total_sq += float(np.square(finite).sum())

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def std(self) -> float:
        if not self.count:
            return 1.0
        return float(np.sqrt(max(self.total_sq / self.count - self.mean**2, 0.0))) or 1.0


def open_target(inputs: Sequence[str | os.PathLike], variable: str | None) -> xr.DataArray:
    """The monthly target as (time, lat, lon) kelvin, lazily."""
    pieces = []
    for path in expand_paths(inputs):
        ds = open_dataset(path)
        name = find_sst_variable(ds, variable, where=f"target {path}")
        pieces.append(to_kelvin(standardise(ds, name, where=f"target {path}"), where=f"target {path}"))
    return pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="time", join="override", combine_attrs="override")


def prepare(daily_inputs: Sequence[str | os.PathLike], target_inputs: Sequence[str | os.PathLike], out: str | Path, *,
            land_mask: str | Path | None = None, variable: str | None = None, target_variable: str | None = None,
            min_quality: int | None = 4, baseline_sigma_px: float = 2.0, overwrite: bool = False) -> Path:
    """Write a training store (see sstfill.io.store) from daily input and a monthly target on the same grid."""
    out = Path(out)
    daily = open_daily(daily_inputs, variable=variable, min_quality=min_quality)
    check_output_path(out, [Path(p) for p in daily.sources], overwrite=overwrite)
    target = open_target(target_inputs, target_variable)
    if target.sizes["lat"] != daily.sst.sizes["lat"] or target.sizes["lon"] != daily.sst.sizes["lon"] or not (
        np.allclose(target["lat"].values, daily.lat) and np.allclose(target["lon"].values, daily.lon)
    ):
        raise InputError(
            f"expected the target on the input grid ({daily.sst.sizes['lat']} x {daily.sst.sizes['lon']}), found "
            f"{target.sizes['lat']} x {target.sizes['lon']}; regrid the target to the input grid"
        )
    target_index = {(int(y), int(m)): i for i, (y, m) in
                    enumerate(zip(target["time"].dt.year.values, target["time"].dt.month.values))}
    months = [m for m in group_months(daily.sst["time"]) if (m.year, m.month) in target_index]
    if not months:
        raise InputError("expected months present in both the daily input and the target, found none in common; "
                         "check that the two files cover the same period")
    skipped = len(group_months(daily.sst["time"])) - len(months)
    if skipped:
        log.warning("%d month(s) of daily input have no target and are left out", skipped)
    check_valid_data(daily, months)

    land, land_source = resolve_land(daily, land_mask)
    used = target.isel(time=[target_index[(m.year, m.month)] for m in months])
    # The target is gap-free over ocean: where it is missing in any month, there is no truth to learn from.
    land = land | np.asarray(used.isnull().any("time").values)
    ocean = ~land
    log.info("land from %s (and where the target has no value): %.1f%% of the grid", land_source, 100 * land.mean())

    spacing = float(np.median(np.abs(np.diff(daily.lat)))) if daily.lat.size > 1 else 0.0
    attrs = {
        "title": "sstfill training store",
        "history": f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} sstfill {__version__} prepare",
        "sources": " ".join(daily.sources),
        "variable_standard_name": daily.standard_name,
        "calendar": daily.calendar,
        "baseline_sigma_px": baseline_sigma_px,
        "grid_spacing_deg": spacing,
        "periodic_x": int(daily.periodic_x),
    }
    tmp = temporary_path(out)
    input_moments, target_moments = RunningMoments(), RunningMoments()
    writer = StoreWriter(tmp, daily.lat, daily.lon, len(months), MAX_DAYS, attrs)
    try:
        padded = padded_days_mask(months)
        for index, month in enumerate(track(months, description="preparing months")):
            fields = load_month(daily.sst, month, ocean, sigma_px=baseline_sigma_px, periodic_x=daily.periodic_x)
            truth_month = np.asarray(target.isel(time=target_index[(month.year, month.month)]).values, np.float32)
            truth = np.where(ocean, truth_month, np.nan).astype(np.float32)
            input_moments.add(fields.slots - fields.baseline)
            target_moments.add(truth - fields.baseline)
            writer.write_month(index, year=month.year, month=month.month, padded=padded[index], daily=fields.slots,
                               baseline=fields.baseline, target=truth, nobs=fields.nobs)
        if input_moments.count == 0:
            raise InputError(f"expected valid SST values in {', '.join(daily.sources)}, found none over ocean; "
                             "check the variable, its fill value and --min-quality")
        writer.finish(land, {
            "input_mean": input_moments.mean, "input_std": input_moments.std, "input_count": input_moments.count,
            "target_mean": target_moments.mean, "target_std": target_moments.std, "target_count": target_moments.count,
        })
        replace_atomically(tmp, out)
    finally:
        if writer.nc.isopen():
            writer.nc.close()
        tmp.unlink(missing_ok=True)
    log.info("wrote %s: %d months, input anomaly %.3f ± %.3f K, target anomaly %.3f ± %.3f K", out, len(months),
             input_moments.mean, input_moments.std, target_moments.mean, target_moments.std)
    return out
