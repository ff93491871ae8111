"""Stage 1: daily gappy SST (+ a gap-free monthly target, or none) -> a prepared training store."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill import __version__
from sstfill.config import MAX_MONTH_DAYS, PrepareConfig, fill_sigma_px
from sstfill.data.baseline import monthly_baseline
from sstfill.data.months import (
    MonthFields,
    group_months,
    load_month,
    month_labels,
    monthly_means,
    padded_days_mask,
    select_months,
)
from sstfill.data.withhold import hide_days
from sstfill.errors import InputError
from sstfill.io.files import expand_paths
from sstfill.io.grid import grid_text, same_grid
from sstfill.io.land import land_file, resolve_land
from sstfill.io.output import atomic_output, check_output_path
from sstfill.io.read import open_daily, open_monthly
from sstfill.io.store import FILL_BY_SPACING, StoreWriter
from sstfill.io.validate import check_valid_data
from sstfill.memory import check_fits
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
    """The monthly target as (time, lat, lon) kelvin, lazily; daily or hourly targets become
    monthly means (months.monthly_means).

    A month without any valid value (a gap in a reanalysis download, say) has no truth to
    learn from: it is left out with a warning, like a daily month without target, so the
    other months still train; a target empty in every month is refused.
    """
    paths = expand_paths(inputs)
    pieces = [open_monthly(path, variable, what="target", option="--target-var")[1] for path in paths]
    target = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="time", join="override", combine_attrs="override")
    where = f"the target ({paths[0]}{' and more' if len(paths) > 1 else ''})"
    target = monthly_means(target, where=where)
    has_values = np.asarray(target.notnull().any(("lat", "lon")).values, dtype=bool)
    if not has_values.any():
        raise InputError(f"expected valid SST in {where}, found none in any month (every value is the fill value or "
                         "NaN); check --target-var and the target's _FillValue")
    if not has_values.all():
        empty = [label for label, ok in zip(month_labels(target["time"]), has_values, strict=True) if not ok]
        log.warning("%s has no valid value in %s: %s left out of the store", where, ", ".join(empty),
                    "that month is" if len(empty) == 1 else "those months are")
        target = target.isel(time=np.flatnonzero(has_values))
    return target


def prepare(daily_inputs: Sequence[str | os.PathLike], target_inputs: Sequence[str | os.PathLike] | None,
            out: str | Path, *, land_mask: str | Path | None = None, variable: str | None = None,
            target_variable: str | None = None, min_quality: int | None = PrepareConfig.min_quality,
            min_target_days: int = PrepareConfig.min_target_days, seed: int = PrepareConfig.seed,
            months: str | None = None, overwrite: bool = False) -> Path:
    """Write a training store (see sstfill.io.store).

    Supervised (target_inputs given): the target is a gap-free monthly SST on the input grid
    (reanalysis, model output). Self-supervised (target_inputs None), for users who hold only
    gappy observations: each month's days are thinned further with the data's own cloud
    shapes (hide_days), and the target is the mean of *all* valid days, kept only where a
    pixel was seen on at least `min_target_days` days, so the model learns to recover a
    well-observed monthly mean from a sparser month. `seed` draws the thinning; preparing the
    same data with several seeds gives more training variety. `months` keeps only those months
    (sstfill.data.months.MONTHS_SPEC_HELP), e.g. one store per year.
    """
    settings = PrepareConfig(min_quality=min_quality, min_target_days=min_target_days, seed=seed)
    if target_inputs is None:
        settings.check_self_supervised()
    daily = open_daily(daily_inputs, variable=variable, min_quality=min_quality)
    targets = expand_paths(target_inputs) if target_inputs is not None else []
    out = check_output_path(out, [*daily.sources, *targets, land_file(land_mask)], overwrite=overwrite)
    check_fits(daily.lat.size, daily.lon.size, MAX_MONTH_DAYS, check=False, where=daily.sources_text)
    all_months = group_months(daily.sst["time"])
    all_months = [all_months[i] for i in select_months(all_months, months)]
    supervised = target_inputs is not None
    if supervised:
        target = open_target(target_inputs, target_variable)
        if not same_grid(target, daily.sst):
            raise InputError(f"expected the target on the input grid {grid_text(daily.sst)}, found "
                             f"{grid_text(target)}; regrid the target to the input grid")
        target_index = {label: i for i, label in enumerate(month_labels(target["time"]))}
        months = [m for m in all_months if m.label in target_index]
        if not months:
            raise InputError("expected months present in both the daily input and the target, found none in common; "
                             "check that the two files cover the same period")
        if len(all_months) > len(months):
            log.warning("%d month(s) of daily input have no target and are left out", len(all_months) - len(months))
    else:
        target, target_index, months = None, {}, all_months
    check_valid_data(daily, months)

    land, land_source = resolve_land(daily, land_mask)
    if supervised:
        used = target.isel(time=[target_index[m.label] for m in months])
        # The target is gap-free over ocean: where it is missing in any month, there is no truth to learn from.
        land = land | np.asarray(used.isnull().any("time").values)
    ocean = ~land
    baseline_sigma_px = fill_sigma_px(*daily.grid_steps_deg)
    log.info("land from %s%s: %.1f%% of the grid", land_source, " (and where the target has no value)" if supervised
             else "", 100 * land.mean())

    attrs = {
        "title": "sstfill training store",
        "history": f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} sstfill {__version__} prepare",
        "sources": " ".join(daily.sources),
        "variable_standard_name": daily.standard_name,
        "calendar": daily.calendar,
        "baseline_sigma_px": np.array(baseline_sigma_px),  # along y, x
        "baseline_fill": FILL_BY_SPACING,
        "grid_spacing_deg": daily.grid_spacing_deg,
        "periodic_x": int(daily.periodic_x),
        "training_mode": "supervised" if supervised else "self-supervised",
        "min_target_days": min_target_days if not supervised else 0,
        "seed": seed,
    }
    moments = {name: RunningMoments() for name in ("input", "target", "absolute_input", "absolute_target")}
    rng = np.random.default_rng(seed)
    with atomic_output(out, overwrite=overwrite) as tmp:
        writer = StoreWriter(tmp, daily.lat, daily.lon, len(months), MAX_MONTH_DAYS, attrs)
        try:
            _write_months(writer, daily, months, ocean, moments, target, target_index, baseline_sigma_px,
                          min_target_days, rng)
            writer.finish(land, {f"{name}_{stat}": getattr(m, stat) for name, m in moments.items()
                                 for stat in ("mean", "std", "count")})
        finally:
            if writer.nc.isopen():
                writer.nc.close()
    log.info("wrote %s (%s): %d months, input anomaly %.3f ± %.3f K, target anomaly %.3f ± %.3f K", out,
             attrs["training_mode"], len(months), moments["input"].mean, moments["input"].std, moments["target"].mean,
             moments["target"].std)
    return out


def _write_months(writer: StoreWriter, daily, months, ocean: np.ndarray, moments: dict[str, RunningMoments],
                  target: xr.DataArray | None, target_index: dict, baseline_sigma_px: float, min_target_days: int,
                  rng: np.random.Generator) -> None:
    """Each month: its day slots, baseline and target (supervised or self-supervised), into the store."""
    padded = padded_days_mask(months)
    for index, month in enumerate(track(months, description="preparing months")):
        fields = load_month(daily.sst, month, ocean, sigma_px=baseline_sigma_px, periodic_x=daily.periodic_x)
        if target is not None:
            truth = np.asarray(target.isel(time=target_index[month.label]).values, np.float32)
            truth = np.where(ocean, truth, np.nan).astype(np.float32)
        else:
            # the baseline is the mean of all valid days wherever a pixel was seen (fill_gaps keeps those values)
            truth = np.where(ocean & (fields.nobs >= min_target_days), fields.baseline, np.nan).astype(np.float32)
            slots = hide_days(fields.slots, rng)
            baseline, nobs = monthly_baseline(slots, ocean, sigma_px=baseline_sigma_px, periodic_x=daily.periodic_x)
            fields = MonthFields(slots=slots, baseline=baseline, nobs=nobs)
        moments["input"].add(fields.slots - fields.baseline)
        moments["target"].add(truth - fields.baseline)
        moments["absolute_input"].add(fields.slots)
        moments["absolute_target"].add(truth)
        writer.write_month(index, year=month.year, month=month.month, padded=padded[index], daily=fields.slots,
                           baseline=fields.baseline, target=truth, nobs=fields.nobs)
    if moments["input"].count == 0:
        raise InputError(f"expected valid SST values in {', '.join(daily.sources)}, found none over ocean; "
                         "check the variable, its fill value and --min-quality")
    if moments["target"].count == 0:
        raise InputError(f"expected ocean pixels seen on at least {min_target_days} days of a month to learn from, "
                         "found none; lower --min-target-days or give a gap-free --target")
