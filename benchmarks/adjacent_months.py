"""How much do the neighbouring months tell about a pixel never observed this month?

For every month with a month on each side, at ocean pixels seen on no day of the month:
the error of the spatial fill (target - baseline) against the local anomaly of the months
before and after (their composite minus its Gaussian smooth). Prints the correlation and the
RMSE left after a linear fit on that anomaly; the stores come from
scripts/train_default_model.py (supervised, with a gap-free target).

    python benchmarks/adjacent_months.py runs/final/store_0{00..47}.nc
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy import ndimage

from sstfill.data.baseline import composite
from sstfill.io.store import open_store


def local_anomaly(field: np.ndarray, ocean: np.ndarray, sigma_px: float) -> np.ndarray:
    """field minus its normalised Gaussian smooth over the valid ocean pixels."""
    valid = np.isfinite(field) & ocean
    num = ndimage.gaussian_filter(np.where(valid, field, 0.0), sigma_px)
    den = ndimage.gaussian_filter(valid.astype(float), sigma_px)
    return field - num / np.maximum(den, 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", nargs="+", help="prepared stores")
    parser.add_argument("--sigma-px", type=float, default=6.0)
    args = parser.parse_args()
    errors, anomalies = [], []
    for path in args.stores:
        store = open_store(path)
        ocean = ~store.land
        composites, counts = zip(*(composite(days) for days in store.daily))
        for m in range(1, len(composites) - 1):
            never_seen = ocean & (counts[m] == 0)
            if not never_seen.any():
                continue
            with warnings.catch_warnings():  # a pixel unseen in both neighbours: NaN, left out below
                warnings.simplefilter("ignore", RuntimeWarning)
                around = np.nanmean([local_anomaly(composites[k], ocean, args.sigma_px) for k in (m - 1, m + 1)], axis=0)
            error = store.target[m] - store.baseline[m]
            keep = never_seen & np.isfinite(around) & np.isfinite(error)
            errors.append(error[keep])
            anomalies.append(around[keep])
    error, anomaly = np.concatenate(errors), np.concatenate(anomalies)
    slope, intercept = np.polyfit(anomaly, error, 1)
    left = error - (slope * anomaly + intercept)
    print(f"never-observed pixel-months: {error.size}")
    print(f"RMSE of the spatial fill: {np.sqrt(np.mean(error**2)):.3f} K")
    print(f"correlation with the neighbouring months' local anomaly: {np.corrcoef(anomaly, error)[0, 1]:.2f}")
    print(f"RMSE after a linear fit on it (slope {slope:.2f}): {np.sqrt(np.mean(left**2)):.3f} K")


if __name__ == "__main__":
    main()
