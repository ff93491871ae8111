"""Stage 4: compare a monthly reconstruction with a reference, beside classic baselines.

Errors are counted over ocean pixels (where the reference has a value), overall, per month
and by how many valid days the pixel had in the month, because the pixels a composite
gets wrong are the rarely observed ones. With the daily input, baselines are scored
beside the reconstruction: the naive composite (mean of the valid days, empty where a pixel
was never seen), the same composite with its empty pixels filled by normalised
convolution (sstfill.data.baseline.fill_gaps), the floor a learned model has to beat, and
DINEOF (sstfill.baselines.dineof), run on each month's days over the reference's ocean.
With plot_dir, maps of each month and RMSE by valid days are drawn (sstfill.plots).

The reconstruction must be monthly (one map per month: a daily file would be scored day by
day as if each day were a month), and the two files must share at least one valid ocean
value: an empty reference scores nothing, and that is refused rather than reported as n = 0.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sstfill.baselines.dineof import DineofTooLarge, dineof_monthly
from sstfill.config import MIN_QUALITY
from sstfill.data.baseline import composite, fill_gaps
from sstfill.data.months import group_months, month_labels, monthly_means
from sstfill.data.scores import MethodScore
from sstfill.errors import InputError
from sstfill.io.grid import grid_text, same_grid
from sstfill.io.read import open_daily, open_monthly
from sstfill.io.validate import check_valid_data

log = logging.getLogger(__name__)

MIN_MONTHLY_STEP_DAYS = 25
"""Monthly maps are 28 to 31 days apart wherever in the month they are stamped; closer steps are daily data."""


def evaluate(recon: str | Path, reference: str | Path, *, daily_input: Sequence[str | os.PathLike] | None = None,
             variable: str | None = None, min_quality: int | None = MIN_QUALITY, dineof: bool = True,
             plot_dir: str | os.PathLike | None = None) -> dict:
    """Scores of the reconstruction (and of the baselines when daily_input is given) against reference.

    dineof: with daily_input, also run and score DINEOF (False skips it: it costs about a
    half a second per month of 128 x 128 pixels, and is skipped with a warning above
    sstfill.baselines.dineof.MAX_ENTRIES pixels x days). plot_dir: draw a map figure per
    month and RMSE by valid days there (needs matplotlib: pip install 'sstfill[plot]');
    the report lists the files under "plots". DINEOF's choices per month are under "dineof".
    """
    if plot_dir is not None:
        from sstfill.plots import require_matplotlib

        require_matplotlib()  # before any long computation
    recon_ds, recon_sst = open_monthly(recon, what="reconstruction", option=None)
    check_monthly(recon_sst["time"], recon)
    _, truth = open_monthly(reference, variable, what="reference")
    truth = monthly_means(truth, where=f"reference {reference}")
    if not same_grid(recon_sst, truth):
        raise InputError(
            f"expected the reconstruction and the reference on one grid, found {grid_text(recon_sst)} "
            f"and {grid_text(truth)}; regrid the reference to the reconstruction's grid"
        )
    truth_index = {key: i for i, key in enumerate(month_labels(truth["time"]))}
    recon_keys = month_labels(recon_sst["time"])
    common = [k for k in recon_keys if k in truth_index]
    if not common:
        raise InputError(f"expected months in common between {recon} ({recon_keys[0]}..{recon_keys[-1]}) and "
                         f"{reference}, found none; check that they cover the same period")

    naive: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dineof_maps: dict[str, np.ndarray] | None = None
    dineof_notes: dict[str, dict] = {}
    if daily_input is not None:
        daily = open_daily(daily_input, variable=variable, min_quality=min_quality)
        check_valid_data(daily)
        if not same_grid(daily.sst, truth):
            raise InputError(f"expected the daily input on the reference's grid {grid_text(truth)}, found "
                             f"{grid_text(daily.sst)}; pass the input the reconstruction was made from")
        dineof_maps = {} if dineof else None
        for month in group_months(daily.sst["time"]):
            if month.label in truth_index:
                days = np.asarray(daily.sst.isel(time=month.time_indices).values, np.float32)
                naive[month.label] = composite(days)
                if dineof_maps is not None and month.label in common:
                    ocean = np.isfinite(np.asarray(truth.isel(time=truth_index[month.label]).values))
                    try:
                        dineof_maps.update(_run_dineof(month.label, days, ocean, daily.periodic_x, dineof_notes))
                    except DineofTooLarge as exc:
                        log.warning("DINEOF not scored: %s. Pass --no-dineof (dineof=False) to skip it on large "
                                    "domains", exc)
                        dineof_maps, dineof_notes = None, {}

    scores = {"sstfill": MethodScore()}
    if naive:
        scores["naive_composite"] = MethodScore()
        scores["composite_filled"] = MethodScore()
    if dineof_maps is not None and naive:
        scores["dineof"] = MethodScore()
    has_sigma = "sst_uncertainty" in recon_ds
    valid = {"reference": 0, "reconstruction": 0, "both": 0}
    for i, key in enumerate(recon_keys):
        if key not in truth_index:
            continue
        reference_map = np.asarray(truth.isel(time=truth_index[key]).values, np.float32)
        estimate = np.asarray(recon_sst.isel(time=i).values, np.float32)
        valid["reference"] += int(np.isfinite(reference_map).sum())
        valid["reconstruction"] += int(np.isfinite(estimate).sum())
        valid["both"] += int((np.isfinite(reference_map) & np.isfinite(estimate)).sum())
        nobs = np.asarray(recon_ds["nobs"].isel(time=i).values) if "nobs" in recon_ds else None
        if key in naive:
            naive_mean, naive_count = naive[key]
            nobs = naive_count if nobs is None else nobs
            scores["naive_composite"].add(key, naive_mean, reference_map, nobs)
            ocean = np.isfinite(reference_map)
            if np.isfinite(naive_mean[ocean]).any():
                filled = fill_gaps(np.where(ocean, naive_mean, np.nan), ocean, periodic_x=daily.periodic_x)
                scores["composite_filled"].add(key, filled, reference_map, nobs)
            if "dineof" in scores and key in dineof_maps:
                scores["dineof"].add(key, dineof_maps[key], reference_map, nobs)
        sigma = np.asarray(recon_ds["sst_uncertainty"].isel(time=i).values, np.float32) if has_sigma else None
        scores["sstfill"].add(key, estimate, reference_map, nobs, sigma)
    check_overlap(valid, recon, reference, common)
    plots: list[str] = []
    if plot_dir is not None:  # after every check: nothing is written for a refused evaluation
        from sstfill.plots import plot_month_maps

        for i, key in enumerate(recon_keys):
            if key in truth_index:
                reference_map = np.asarray(truth.isel(time=truth_index[key]).values, np.float32)
                estimate = np.asarray(recon_sst.isel(time=i).values, np.float32)
                plots.append(str(plot_month_maps(Path(plot_dir) / f"maps_{key}.png", key, reference_map, estimate,
                                                 truth["lat"].values, truth["lon"].values)))
    report = {"reconstruction": str(recon), "reference": str(reference), "months": common,
              "methods": {name: score.as_dict() for name, score in scores.items()}}
    if dineof_notes:
        report["dineof"] = dineof_notes
    if plot_dir is not None:
        from sstfill.plots import plot_rmse_by_valid_days

        plots.append(str(plot_rmse_by_valid_days(Path(plot_dir) / "rmse_by_valid_days.png", report)))
        report["plots"] = plots
    return report


def check_monthly(time: xr.DataArray, recon: str | Path) -> None:
    """Refuse a reconstruction with several maps in a month or maps days apart: daily data, not sstfill's output."""
    labels = month_labels(time)
    values = time.values
    steps = [pd.Timedelta(b - a).total_seconds() / 86400 for a, b in pairwise(values)]
    shortest = min(np.abs(steps), default=np.inf)
    if len(set(labels)) < len(labels) or shortest < MIN_MONTHLY_STEP_DAYS:
        found = (f"{len(labels)} time steps in {len(set(labels))} month(s)" if len(set(labels)) < len(labels)
                 else f"time steps {shortest:g} day(s) apart")
        raise InputError(
            f"expected a monthly reconstruction in {recon} (one map per month), found {found}; "
            "pass the output of 'sstfill reconstruct' as RECON (a daily file belongs in --input)"
        )


def check_overlap(valid: dict[str, int], recon: str | Path, reference: str | Path, months: list[str]) -> None:
    """Refuse to score when no pixel of the common months has a value in both files."""
    if valid["both"]:
        return
    span = f"{months[0]}..{months[-1]}" if len(months) > 1 else months[0]
    if not valid["reference"]:
        raise InputError(
            f"expected valid SST in the reference {reference} over {span}, found none (every value is the fill "
            "value or NaN); check the reference's variable (--var) and its _FillValue"
        )
    if not valid["reconstruction"]:
        raise InputError(f"expected valid SST in the reconstruction {recon} over {span}, found none; "
                         "pass the output of 'sstfill reconstruct' as RECON")
    raise InputError(
        f"expected ocean pixels with a value in both {recon} and {reference} over {span}, found none in common "
        f"({valid['reconstruction']} valid values in one, {valid['reference']} in the other, never at the same "
        "place and month); check that both cover the same region and ocean"
    )


def _run_dineof(label: str, days: np.ndarray, ocean: np.ndarray, periodic_x: bool,
                notes: dict) -> dict[str, np.ndarray]:
    """{label: DINEOF's monthly map}, or {} when the month has no valid ocean value; notes its choices."""
    if not (np.isfinite(days) & ocean).any():
        log.info("DINEOF %s: no valid ocean value, not scored", label)
        return {}
    monthly, result = dineof_monthly(days, ocean, periodic_x=periodic_x)
    notes[label] = result.diagnostics()
    cv = f", cross-validation RMSE {result.cv_rmse[result.modes - 1]:.3f} K" if result.cv_rmse else ""
    log.info("DINEOF %s: %d modes%s, %d x %d matrix, %.1f s", label, result.modes, cv, *result.matrix_shape,
             result.seconds)
    return {label: monthly}
