"""Build sstfill/resources/land_mask_0.05deg.npz from the global-land-mask package.

global-land-mask (MIT licence, https://github.com/toddkarin/global-land-mask) ships the
GLOBE 1-km land/sea mask. We aggregate it to 0.05 degrees (6 x 6 blocks, land where
less than half the block is ocean) and bit-pack it, so sstfill can ship a real coastline
in about 130 kB and never download one. Run once; the result is committed.

    pip install global-land-mask==1.0.0
    python scripts/make_land_mask.py
"""

from pathlib import Path

import global_land_mask
import numpy as np

BLOCK = 6  # 1/120 degree -> 1/20 degree


def main() -> None:
    source = Path(global_land_mask.__file__).with_name("globe_combined_mask_compressed.npz")
    ocean = np.load(source)["mask"]  # (21600, 43200), row 0 at 90N, column 0 at 180W
    rows, cols = ocean.shape
    ocean_fraction = ocean.reshape(rows // BLOCK, BLOCK, cols // BLOCK, BLOCK).mean(axis=(1, 3))
    land = ocean_fraction < 0.5
    target = Path(__file__).resolve().parents[1] / "sstfill" / "resources" / "land_mask_0.05deg.npz"
    np.savez_compressed(target, land=np.packbits(land, axis=1), shape=np.array(land.shape))
    print(f"wrote {target} ({target.stat().st_size} bytes), land fraction {land.mean():.3f}")


if __name__ == "__main__":
    main()
