"""Where `sstfill reconstruct` spends its time: the share of each model component, and the wall time.

Generates a month with `sstfill synth` (once, kept in --work), then runs reconstruct in this
process (no --check, like `sstfill reconstruct DAILY OUT --no-check`) under torch.profiler.
Each model component is marked with a record_function label by forward hooks, so the table
gives the CPU time inside each one (children included) and its share of the wall time (the
patch embedding's convolution, called with the Conv3d's weights rather than through it, counts
in the model forward only);
torch.cat is counted wherever it is called, so its row overlaps the others. Plain runs first
(--repeat of them, no profiler) give wall and CPU times without the profiler's overhead. On a
shared machine compare only runs made side by side, e.g. this tree against another one given
by PYTHONPATH=OTHER_TREE, alternately.

    OMP_NUM_THREADS=2 python benchmarks/profile_reconstruct.py --region 0 50 -80 -5 --resolution 0.25
    OMP_NUM_THREADS=2 python benchmarks/profile_reconstruct.py --global --resolution 0.25
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import torch
from torch.autograd.profiler import record_function

import sstfill.reconstruct as reconstruct_module
from sstfill import checkpoint

# (label, path of the submodule in SpatioTemporalModel); a missing submodule (an older model) is skipped.
COMPONENTS = (
    ("DailyNeighbourhood smoothing", "encoder.neighbourhood"),
    ("token norm + MLP", "encoder.mlp"),
    ("PixelPath", "pixels"),
    ("temporal aggregation", "temporal"),
    ("spatial transformer", "spatial"),
    ("decoder", "decoder"),
    ("BaselineStructure", "structure"),
)
FORWARD = "model forward"
CAT = "aten::cat"


def synth(work: Path, region: list[float], resolution: float, global_grid: bool, seed: int) -> Path:
    """A generated one-month daily file, made once and kept."""
    if global_grid:
        half = resolution / 2.0
        region = [-90 + half, 90 - half, 0.0, 360.0]
    name = ("glob" if global_grid else "region") + f"{resolution:g}_" + "_".join(f"{v:g}" for v in region)
    folder = work / name
    daily = folder / "daily.nc"
    if not daily.exists():
        subprocess.run(["sstfill", "synth", str(folder), "--region", *map(str, region), "--resolution",
                        str(resolution), "--months", "1", "--seed", str(seed), "--quiet"], check=True)
    return daily


def label_components(model: torch.nn.Module) -> list:
    """Forward hooks that open a record_function label before each component and close it after."""
    handles = []
    modules = dict(model.named_modules())
    for label, path in ((FORWARD, ""), *COMPONENTS):
        module = modules.get(path)
        if module is None:
            continue
        opened: list = []

        def enter(_module, _inputs, label=label, opened=opened):
            opened.append(record_function(label).__enter__())

        def leave(_module, _inputs, _output, opened=opened):
            opened.pop().__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    return handles


def labelled_loads(load_model):
    """checkpoint.load_model, its model's components labelled."""
    def load(*args, **kwargs):
        loaded = load_model(*args, **kwargs)
        label_components(loaded.model)
        return loaded
    return load


def run(daily: Path, out: Path, batch_size: int | None) -> tuple[float, float]:
    """(wall, CPU) seconds of one reconstruct; CPU time is steadier than wall time on a shared machine."""
    start, cpu = time.perf_counter(), time.process_time()
    reconstruct_module.reconstruct(daily, out, check=False, overwrite=True, device="cpu", batch_size=batch_size)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("runs/profile"))
    parser.add_argument("--region", type=float, nargs=4, default=[0.0, 50.0, -80.0, -5.0],
                        metavar=("LAT_MIN", "LAT_MAX", "LON_MIN", "LON_MAX"))
    parser.add_argument("--global", dest="global_grid", action="store_true", help="a global month instead")
    parser.add_argument("--resolution", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="tiles per forward pass (default: sstfill's)")
    parser.add_argument("--repeat", type=int, default=1, help="plain runs (no profiler) for the wall time")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    daily = synth(args.work, args.region, args.resolution, args.global_grid, args.seed)
    out = daily.with_name("monthly_profile.nc")
    print(f"input {daily}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")

    plain = [run(daily, out, args.batch_size) for _ in range(args.repeat)]
    load_model = reconstruct_module.load_model  # reconstruct calls load_model from its own namespace
    reconstruct_module.load_model = labelled_loads(checkpoint.load_model)
    try:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
            profiled, _ = run(daily, out, args.batch_size)
    finally:
        reconstruct_module.load_model = load_model

    seconds = {e.key: e.cpu_time_total / 1e6 for e in profile.key_averages()}
    forward = seconds.get(FORWARD, 0.0)
    print(f"\nwall time: plain {', '.join(f'{wall:.2f}' for wall, _ in plain)} s (CPU "
          f"{', '.join(f'{cpu:.2f}' for _, cpu in plain)} s); profiled {profiled:.2f} s")
    print("\n| part | seconds | share of the model forward | share of the profiled wall time |")
    print("|---|---|---|---|")
    rows = [(FORWARD, FORWARD)] + [(label, label) for label, _ in COMPONENTS] + [("torch.cat (anywhere)", CAT)]
    for name, key in rows:
        if key in seconds:
            print(f"| {name} | {seconds[key]:.2f} | {100 * seconds[key] / forward:.0f} % | "
                  f"{100 * seconds[key] / profiled:.0f} % |")
    print(f"| outside the model (read, tiles, stitch, write) | {profiled - forward:.2f} | | "
          f"{100 * (profiled - forward) / profiled:.0f} % |")


if __name__ == "__main__":
    main()
