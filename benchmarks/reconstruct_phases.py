"""Where a whole `sstfill reconstruct` run spends its wall and system time, function by function.

A thread samples the main thread's stack every --interval seconds while reconstruct runs in
this process (with the check unless --no-check), and charges each sample's wall time and the
process's system time since the last sample to every sstfill function on the stack (numpy's
and dask's named ones too). System time is mostly the kernel giving the process new memory:
on a virtual machine, memory the host has taken back costs about 4 s per GB the first time it
is touched, so this is where a month's fresh allocations show. Unlike
benchmarks/profile_reconstruct.py (torch.profiler, the model's components), this covers the
reading, the check and the writing too, at the cost of a sample's resolution.

    OMP_NUM_THREADS=2 python benchmarks/reconstruct_phases.py runs/global/glob0.05_repeated.nc
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from sstfill.logs import setup_logging
from sstfill.reconstruct import reconstruct

NAMED = ("numeric.py", "fromnumeric.py", "core.py")  # np.full, np.take, dask.array.store: where memory is new


def system_seconds() -> float:
    """This process's system time so far (all threads), from /proc."""
    with open("/proc/self/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


class StackSampler(threading.Thread):
    """Charges wall and system time to the functions on one thread's stack, every `interval` seconds."""

    def __init__(self, thread_id: int, interval: float):
        super().__init__(daemon=True)
        self.thread_id, self.interval = thread_id, interval
        self.wall: collections.Counter[str] = collections.Counter()
        self.system: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        last = system_seconds()
        while True:
            time.sleep(self.interval)
            now = system_seconds()
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                for name in {f"{Path(f.filename).name}:{f.name}" for f in traceback.extract_stack(frame)
                             if "sstfill" in f.filename or Path(f.filename).name in NAMED}:
                    self.wall[name] += self.interval
                    self.system[name] += now - last
            last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("daily", help="the daily input")
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("--rows", type=int, default=30, help="functions listed, by wall time")
    args = parser.parse_args()
    setup_logging()
    sampler = StackSampler(threading.get_ident(), args.interval)
    sampler.start()
    start, start_system = time.monotonic(), system_seconds()
    with tempfile.TemporaryDirectory() as folder:
        reconstruct(args.daily, Path(folder) / "out.nc", check=args.check)
    print(f"wall {time.monotonic() - start:.1f} s, system {system_seconds() - start_system:.1f} s\n")
    print("| function (inclusive) | wall s | system s |\n|---|---|---|")
    for name, seconds in sampler.wall.most_common(args.rows):
        print(f"| {name} | {seconds:.1f} | {sampler.system[name]:.1f} |")


if __name__ == "__main__":
    main()
