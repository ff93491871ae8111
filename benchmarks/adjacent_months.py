"""How much do the neighbouring months tell about a pixel never observed this month?

For every month with a month on each side, at ocean pixels seen on no day of the month
(--valid-days to choose others): an error against the local anomaly of the months before
and after (their composite minus its Gaussian smooth). Prints the correlation and the RMSE
left after a linear fit on that anomaly.

The error is that of the spatial fill (target - baseline) in prepared supervised stores,
such as those scripts/train_default_model.py writes:

    python benchmarks/adjacent_months.py runs/final/store_0{00..47}.nc

or, with --regions N, that of a model (the bundled one unless --model) on N generated
regions of three months that no model trained on:

    python benchmarks/adjacent_months.py --regions 10 --seed 11
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage

from sstfill.data.baseline import composite
from sstfill.data.months import group_months
from sstfill.io.read import open_daily
from sstfill.io.store import open_store
from sstfill.logs import setup_logging
from sstfill.reconstruct import reconstruct
from sstfill.testing import random_ocean_region, synthetic_sst, write_netcdf


def local_anomaly(field: np.ndarray, ocean: np.ndarray, sigma_px: float) -> np.ndarray:
    """field minus its normalised Gaussian smooth over the valid ocean pixels."""
    valid = np.isfinite(field) & ocean
    num = ndimage.gaussian_filter(np.where(valid, field, 0.0), sigma_px)
    den = ndimage.gaussian_filter(valid.astype(float), sigma_px)
    return field - num / np.maximum(den, 1e-6)


def pairs(errors, composites, counts, ocean, sigma_px, valid_days):
    """(error, neighbours' anomaly) at the chosen pixels of every month with a month on each side."""
    for m in range(1, len(composites) - 1):
        with warnings.catch_warnings():  # a pixel unseen in both neighbours: NaN, left out below
            warnings.simplefilter("ignore", RuntimeWarning)
            around = np.nanmean([local_anomaly(composites[k], ocean, sigma_px) for k in (m - 1, m + 1)], axis=0)
        keep = (ocean & (counts[m] >= valid_days[0]) & (counts[m] <= valid_days[1]) & np.isfinite(around)
                & np.isfinite(errors[m]))
        yield errors[m][keep], around[keep]


def from_stores(paths, sigma_px, valid_days):
    for path in paths:
        store = open_store(path)
        composites, counts = zip(*(composite(days) for days in store.daily), strict=True)
        errors = [store.target[m] - store.baseline[m] for m in range(len(composites))]
        yield from pairs(errors, composites, counts, ~store.land, sigma_px, valid_days)


def from_model(n_regions, seed, model, sigma_px, valid_days):
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_regions):
            lat, lon, _ = random_ocean_region(rng)
            start = f"{int(rng.integers(2000, 2024))}-{int(rng.integers(1, 13)):02d}-01"
            daily, truth = synthetic_sst(lat, lon, start=start, n_months=3, seed=int(rng.integers(2**31)),
                                         cloud_cover=float(rng.uniform(0.4, 0.8)))
            daily_path = write_netcdf(daily, Path(tmp) / f"daily_{i}.nc")
            out = reconstruct([daily_path], Path(tmp) / f"out_{i}.nc", model=model, device="cpu")
            with xr.open_dataset(out) as recon:
                errors = truth["sst"].values - recon["sst"].values
                nobs = recon["nobs"].values
            sst = open_daily(daily_path).sst  # the values reconstruct read
            composites = [composite(sst.isel(time=m.time_indices).values)[0] for m in group_months(sst["time"])]
            yield from pairs(errors, composites, nobs, np.isfinite(truth["sst"].values[0]), sigma_px, valid_days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", nargs="*", help="prepared supervised stores")
    parser.add_argument("--regions", type=int, default=0, help="score a model on this many generated regions instead")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", type=Path, default=None, help="with --regions: model file (default: bundled)")
    parser.add_argument("--valid-days", type=int, nargs=2, default=(0, 0), metavar=("MIN", "MAX"))
    parser.add_argument("--sigma-px", type=float, default=6.0)
    args = parser.parse_args()
    if bool(args.stores) == bool(args.regions):
        parser.error("give either stores or --regions N")
    setup_logging(quiet=True)
    found = (from_model(args.regions, args.seed, args.model, args.sigma_px, args.valid_days) if args.regions
             else from_stores(args.stores, args.sigma_px, args.valid_days))
    errors, anomalies = zip(*found, strict=True)
    error, anomaly = np.concatenate(errors), np.concatenate(anomalies)
    slope, intercept = np.polyfit(anomaly, error, 1)
    left = error - (slope * anomaly + intercept)
    what = "the model" if args.regions else "the spatial fill"
    print(f"pixel-months with {args.valid_days[0]}-{args.valid_days[1]} valid days: {error.size}")
    print(f"RMSE of {what}: {np.sqrt(np.mean(error**2)):.3f} K")
    print(f"correlation with the neighbouring months' local anomaly: {np.corrcoef(anomaly, error)[0, 1]:.2f}")
    print(f"RMSE after a linear fit on it (slope {slope:.2f}): {np.sqrt(np.mean(left**2)):.3f} K")


if __name__ == "__main__":
    main()
