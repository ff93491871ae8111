"""Which first sigma fills never-observed pixels best, at each grid spacing?

The baseline that the model corrects is the monthly composite of the valid days, gap-filled
by normalised convolution from a first sigma (pixels) that doubles each pass. The model
does not learn to undo a poor fill at pixels never observed in the month, so the first
sigma matters there. This draws generated regions (by default those the bundled model
trains on: seed 2026, as scripts/train_default_model.py draws them), fills each month's
composite from several first sigmas, and prints the RMSE against the true monthly mean at
the never-observed ocean pixels, per grid spacing, beside config.fill_sigma_px:

    python benchmarks/fill_sigma.py --regions 96
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

import numpy as np

from sstfill.config import fill_sigma_px
from sstfill.data.baseline import composite, fill_gaps
from sstfill.testing import random_ocean_region, synthetic_sst

SIGMAS_PX = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", type=int, default=96)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    sse: dict[tuple[float, str], float] = defaultdict(float)
    count: dict[float, int] = defaultdict(int)
    for _ in range(args.regions):
        lat, lon, spacing = random_ocean_region(rng)
        start = f"{int(rng.integers(2000, 2024))}-{int(rng.integers(1, 13)):02d}-01"
        cloud = float(rng.uniform(0.4, 0.8))
        daily, truth = synthetic_sst(lat, lon, start=start, n_months=args.months, seed=int(rng.integers(2**31)),
                                     cloud_cover=cloud)
        good = daily["sst"].where(daily["quality_level"] >= 4)
        for month, (_, days) in enumerate(good.groupby(daily["time"].dt.strftime("%Y-%m"))):
            reference = truth["sst"].values[month]
            ocean = np.isfinite(reference)
            mean, seen = composite(days.values)
            never = ocean & (seen == 0)
            if not never.any():
                continue
            count[spacing] += int(never.sum())
            for sigma in (*SIGMAS_PX, "rule"):
                first = fill_sigma_px(spacing, spacing) if sigma == "rule" else sigma
                error = fill_gaps(mean, ocean, sigma_px=first)[never] - reference[never]
                sse[spacing, str(sigma)] += float(np.sum(error.astype(np.float64) ** 2))
    print(f"RMSE (K) at never-observed pixels, {args.regions} regions (seed {args.seed}), by first fill sigma (px):\n")
    print("| grid | pixel-months | " + " | ".join(f"{s:g}" for s in SIGMAS_PX) + " | fill_sigma_px |")
    print("|---" * (len(SIGMAS_PX) + 3) + "|")
    for spacing in sorted(count):
        cells = [f"{math.sqrt(sse[spacing, str(s)] / count[spacing]):.4f}" for s in (*SIGMAS_PX, "rule")]
        print(f"| {spacing:g}° | {count[spacing]} | " + " | ".join(cells[:-1])
              + f" | {cells[-1]} ({fill_sigma_px(spacing, spacing)[0]:.2g} px) |")


if __name__ == "__main__":
    main()
