"""Train the default model shipped in sstfill/resources/default_model.pt. Reproducible.

Generated data covering many regions, seasons and resolutions: each region is a random
ocean box (at least half ocean in the bundled coastline) at a resolution drawn from
0.05 to 1 degree, over --months consecutive months (four by default) starting in a random
month; the last quarter of each region's months is held out for validation. Regions and
seeds are drawn from --seed, so the evaluation benchmark (benchmarks/heldout.py, other
seeds) never sees them.

With --vary, each region also draws the generator's statistics (eddies, fronts, anomalies,
clouds, swaths, retrieval noise, undetected and unflagged cloud; see
sstfill.testing.random_statistics), a cloud cover of 0.3-0.9 instead of 0.4-0.8, and in 3 of
10 regions cells whose longitude step is 1.2-1.6 times larger or smaller than their latitude
step, so that the model does not learn one generator's habits. Without it the same command
gives the same stores as before; use another --work for each.

    python scripts/train_default_model.py --work runs/default --out sstfill/resources/default_model.pt
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
from functools import partial
from pathlib import Path

import numpy as np

from sstfill.config import ModelConfig, TrainConfig
from sstfill.logs import setup_logging
from sstfill.prepare import prepare
from sstfill.testing import random_ocean_region, random_statistics, synthetic_sst, write_netcdf
from sstfill.testing.statistics import describe
from sstfill.train import train

log = logging.getLogger("sstfill.scripts")

NON_SQUARE_CHANCE = 0.3  # under --vary: regions whose lon step differs from their lat step ...
NON_SQUARE_FACTOR = (1.2, 1.6)  # ... by this factor, either way
VARIED_CLOUD = (0.3, 0.9)


def region_specs(n_regions: int, seed: int, *, vary: bool = False) -> list[dict]:
    """Each region's grid, start, cloud cover, seed and statistics, drawn in order from --seed."""
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(n_regions):
        lon_factor = 1.0
        if vary and rng.random() < NON_SQUARE_CHANCE:
            lon_factor = float(rng.uniform(*NON_SQUARE_FACTOR) ** rng.choice([-1.0, 1.0]))
        lat, lon, res = random_ocean_region(rng, lon_factor=lon_factor)
        specs.append({"index": i, "lat": lat, "lon": lon, "res": res, "lon_factor": lon_factor,
                      "start": f"{int(rng.integers(2000, 2024))}-{int(rng.integers(1, 13)):02d}-01",
                      "cloud": float(rng.uniform(*(VARIED_CLOUD if vary else (0.4, 0.8)))),
                      "seed": int(rng.integers(2**31)), "statistics": random_statistics(rng) if vary else None})
    return specs


def make_store(work: Path, spec: dict, n_months: int, self_supervised: bool) -> Path:
    """The store of one region (kept if it exists: a rerun resumes)."""
    i, lat, lon = spec["index"], spec["lat"], spec["lon"]
    store = work / f"store_{i:03d}.nc"
    if not store.exists():
        daily, truth = synthetic_sst(lat, lon, start=spec["start"], n_months=n_months, seed=spec["seed"],
                                     cloud_cover=spec["cloud"], statistics=spec["statistics"])
        daily_path = write_netcdf(daily, work / f"daily_{i:03d}.nc")
        if self_supervised:  # the truth is not used
            prepare([daily_path], None, store, seed=i)
        else:
            truth_path = write_netcdf(truth, work / f"truth_{i:03d}.nc")
            prepare([daily_path], [truth_path], store)
            truth_path.unlink()
        daily_path.unlink()
    log.info("region %d: %d x %d at %.2f x %.3f deg, lat %.1f, lon %.1f, from %s, cloud %.2f", i, lat.size,
             lon.size, spec["res"], spec["res"] * spec["lon_factor"], lat[0], lon[0], spec["start"], spec["cloud"])
    if spec["statistics"] is not None:
        log.info("region %d statistics: %s", i, describe(spec["statistics"]))
    return store


def make_stores(work: Path, n_regions: int, seed: int, n_months: int = 4, self_supervised: bool = False,
                vary: bool = False, jobs: int = 1) -> list[Path]:
    """Every region's store; `jobs` processes make them at once (the same stores as one would)."""
    build = partial(make_store, work, n_months=n_months, self_supervised=self_supervised)
    specs = region_specs(n_regions, seed, vary=vary)
    if jobs <= 1:
        return [build(spec) for spec in specs]
    with multiprocessing.get_context("spawn").Pool(jobs, initializer=setup_logging) as pool:
        return pool.map(build, specs, chunksize=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("runs/default"))
    parser.add_argument("--out", type=Path, default=Path("sstfill/resources/default_model.pt"))
    parser.add_argument("--regions", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--samples-per-epoch", type=int, default=256)
    parser.add_argument("--months", type=int, default=4, help="months generated per region")
    parser.add_argument("--months-per-window", type=int, default=1)
    parser.add_argument("--vary", action="store_true",
                        help="draw the generator's statistics, a wider cloud cover and some non-square cells "
                             "per region (in another --work folder)")
    parser.add_argument("--self-supervised", action="store_true",
                        help="prepare the stores from the daily data alone (in another --work folder)")
    parser.add_argument("--model-config", type=json.loads, default={},
                        help='ModelConfig overrides as JSON, e.g. \'{"embed_dim": 96}\'')
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="processes making the stores")
    parser.add_argument("--workers", type=int, default=0, help="data-loading processes in training")
    args = parser.parse_args()
    setup_logging()
    args.work.mkdir(parents=True, exist_ok=True)
    stores = make_stores(args.work, args.regions, args.seed, n_months=args.months, self_supervised=args.self_supervised,
                         vary=args.vary, jobs=args.jobs)
    config = TrainConfig(epochs=args.epochs, samples_per_epoch=args.samples_per_epoch, seed=args.seed,
                         patience=args.epochs, months_per_window=args.months_per_window)
    train(stores, args.out, config=config, model_config=ModelConfig(**args.model_config), device=args.device,
          workers=args.workers)


if __name__ == "__main__":
    main()
