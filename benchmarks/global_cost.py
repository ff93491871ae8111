"""Wall time and peak memory of `sstfill reconstruct` on one global month, at 1, 0.25 or 0.05 degree.

1 and 0.25 degree: a month from `sstfill synth`. 0.05 degree: the generator is too costly
at that size, so the 0.25 degree month is written with every cell repeated 5 x 5 (3595 x
7200 pixels), a day at a time: its cost is that of a real 0.05 degree month, its accuracy
means nothing. Each reconstruct runs in a child process, whose own peak resident memory is read
from the operating system.

    python benchmarks/global_cost.py --resolution 0.05 --work runs/global
    python benchmarks/global_cost.py --resolution 0.25 --no-check --device cuda --precision bf16 --json

On a GPU machine the second line measures CUDA with mixed precision; --json prints one JSON line
(resolution, grid, options, wall seconds, peak resident memory of the reconstruct process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

REPEAT = 5  # 0.25 degree cells per 0.05 degree row or column


def synth(work: Path, resolution: float) -> Path:
    """A generated global month at 1 or 0.25 degree (seed 3 or 4, as in docs/accuracy.md#global-months)."""
    folder = work / f"glob{resolution:g}"
    if not (folder / "daily.nc").exists():
        half = resolution / 2.0
        subprocess.run(["sstfill", "synth", str(folder), "--region", str(-90 + half), str(90 - half), "0", "360",
                        "--resolution", str(resolution), "--months", "1", "--seed", "3" if resolution == 1 else "4"],
                       check=True)
    return folder / "daily.nc"


def repeated_cells(source: Path, out: Path) -> Path:
    """The 0.25 degree month on a 0.05 degree grid, each cell repeated REPEAT x REPEAT, a day at a time."""
    if out.exists():
        return out
    with xr.open_dataset(source) as src:
        offsets = (np.arange(REPEAT) - (REPEAT - 1) / 2) * 0.25 / REPEAT
        lat = (src["lat"].values[:, None] + offsets).ravel()
        lon = (src["lon"].values[:, None] + offsets).ravel()
        with netCDF4.Dataset(out, "w") as nc:
            nc.createDimension("time", None)
            nc.createDimension("lat", lat.size)
            nc.createDimension("lon", lon.size)
            time_var = nc.createVariable("time", "f8", ("time",))
            time_var.setncatts({"units": "days since 1970-01-01", "calendar": "standard"})
            nc.createVariable("lat", "f8", ("lat",)).setncatts({"units": "degrees_north"})
            nc.createVariable("lon", "f8", ("lon",)).setncatts({"units": "degrees_east"})
            nc["lat"][:], nc["lon"][:] = lat, lon
            sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=1,
                                    chunksizes=(1, lat.size, lon.size), fill_value=np.float32(np.nan))
            sst.setncatts({"units": "K", "standard_name": "sea_surface_temperature"})
            days = (src["time"].values - np.datetime64("1970-01-01")) / np.timedelta64(1, "D")
            for d in range(src.sizes["time"]):
                sst[d] = np.repeat(np.repeat(src["sst"].isel(time=d).values, REPEAT, axis=0), REPEAT, axis=1)
                time_var[d] = days[d]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=float, choices=(1.0, 0.25, 0.05), default=0.25)
    parser.add_argument("--work", type=Path, default=Path("runs/global"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--batch-size", type=int, help="tiles per forward pass (default: sstfill's choice)")
    parser.add_argument("--no-check", dest="check", action="store_false", help="reconstruct --no-check")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a sentence")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.resolution == 0.05:
        daily = repeated_cells(synth(args.work, 0.25), args.work / "glob0.05_repeated.nc")
    else:
        daily = synth(args.work, args.resolution)
    out = daily.with_name(daily.stem + "_monthly.nc")
    start = time.monotonic()
    options = ["--device", args.device, "--precision", args.precision, *([] if args.check else ["--no-check"]),
               *([] if args.batch_size is None else ["--batch-size", str(args.batch_size)])]
    child = subprocess.Popen([sys.executable, "-m", "sstfill", "reconstruct", str(daily), str(out), "--overwrite",
                              "--quiet", *options])
    _, status, usage = os.wait4(child.pid, 0)  # this child's own resource use, not the generator's
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"reconstruct failed with status {os.waitstatus_to_exitcode(status)}")
    peak_gb = usage.ru_maxrss * 1024 / 1e9  # kilobytes on Linux
    with xr.open_dataset(out) as ds:
        shape = (ds.sizes["lat"], ds.sizes["lon"])
    if args.json:
        print(json.dumps({"resolution_deg": args.resolution, "grid": list(shape), "options": options,
                          "cpu_threads": os.environ.get("OMP_NUM_THREADS"), "wall_s": round(wall, 1),
                          "peak_gb": round(peak_gb, 2)}))
    else:
        print(f"global {args.resolution:g} degree, {shape[0]} x {shape[1]}, {' '.join(options)}: reconstruct "
              f"{wall:.0f} s, peak {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
