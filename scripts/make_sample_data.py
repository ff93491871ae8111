"""Regenerate sample_data/ from the seeded synthetic-data factory.

The region, off North America at 0.25 degrees, has a real coastline, cold shelf water and a
Gulf-Stream-like front (seed 2021 draws a 4.9 K front at 36.8 N), so the bundled example
shows what the gap-filler is for. Deterministic; takes no arguments:

    python scripts/make_sample_data.py
"""

import logging
from pathlib import Path

import numpy as np

from sstfill.testing import make_grid, synthetic_sst, write_netcdf

REGION = {"lat_min": 24.0, "lat_max": 48.0, "lon_min": -80.0, "lon_max": -48.0, "resolution_deg": 0.25}
SEED = 2021
OUT = Path(__file__).resolve().parents[1] / "sample_data"

log = logging.getLogger("make_sample_data")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    lat, lon = make_grid(**REGION)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=3, seed=SEED,
                                 cloud_cover=0.6)
    OUT.mkdir(exist_ok=True)
    for ds, name in ((daily, "daily_sst.nc"), (truth, "monthly_truth.nc")):
        path = write_netcdf(ds, OUT / name)
        log.info("wrote %s: %s, %.2f MB", path, dict(ds.sizes), path.stat().st_size / 1e6)
    ocean = np.isfinite(truth.sst.values[0])
    valid = np.isfinite(daily.sst.values[:, ocean]).mean()
    log.info("seed %d, %d x %d grid, ocean valid fraction %.3f", SEED, lat.size, lon.size, valid)


if __name__ == "__main__":
    main()
