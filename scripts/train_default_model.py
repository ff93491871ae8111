"""Train the default model shipped in sstfill/resources/default_model.pt. Reproducible.

Generated data covering many regions, seasons and resolutions: each region is a random
ocean box (at least half ocean in the bundled coastline) at a resolution drawn from
0.05 to 1 degree, over --months consecutive months (four by default) starting in a random
month; the last quarter of each region's months is held out for validation. Regions and
seeds are drawn from --seed, so the evaluation benchmark (benchmarks/heldout.py, other
seeds) never sees them.

    python scripts/train_default_model.py --work runs/default --out sstfill/resources/default_model.pt
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from sstfill.config import ModelConfig, TrainConfig
from sstfill.logs import setup_logging
from sstfill.prepare import prepare
from sstfill.testing import random_ocean_region, synthetic_sst, write_netcdf
from sstfill.train import train

log = logging.getLogger("sstfill.scripts")

def make_stores(work: Path, n_regions: int, seed: int, n_months: int = 4, self_supervised: bool = False) -> list[Path]:
    rng = np.random.default_rng(seed)
    stores = []
    for i in range(n_regions):
        lat, lon, res = random_ocean_region(rng)
        start = f"{int(rng.integers(2000, 2024))}-{int(rng.integers(1, 13)):02d}-01"
        cloud = float(rng.uniform(0.4, 0.8))
        region_seed = int(rng.integers(2**31))
        store = work / f"store_{i:03d}.nc"
        if not store.exists():
            daily, truth = synthetic_sst(lat, lon, start=start, n_months=n_months, seed=region_seed,
                                         cloud_cover=cloud)
            daily_path = write_netcdf(daily, work / f"daily_{i:03d}.nc")
            if self_supervised:  # the truth is not used
                prepare([daily_path], None, store, seed=i)
            else:
                truth_path = write_netcdf(truth, work / f"truth_{i:03d}.nc")
                prepare([daily_path], [truth_path], store)
                truth_path.unlink()
            daily_path.unlink()
        log.info("region %d: %d x %d at %.2f deg, lat %.1f, lon %.1f, from %s, cloud %.2f", i, lat.size, lon.size, res,
                 lat[0], lon[0], start, cloud)
        stores.append(store)
    return stores


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
    parser.add_argument("--self-supervised", action="store_true",
                        help="prepare the stores from the daily data alone (in another --work folder)")
    parser.add_argument("--model-config", type=json.loads, default={},
                        help='ModelConfig overrides as JSON, e.g. \'{"embed_dim": 96}\'')
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    setup_logging()
    args.work.mkdir(parents=True, exist_ok=True)
    stores = make_stores(args.work, args.regions, args.seed, n_months=args.months, self_supervised=args.self_supervised)
    config = TrainConfig(epochs=args.epochs, samples_per_epoch=args.samples_per_epoch, seed=args.seed, patience=args.epochs,
                         months_per_window=args.months_per_window)
    train(stores, args.out, config=config, model_config=ModelConfig(**args.model_config), device=args.device)


if __name__ == "__main__":
    main()
