"""Will a month fit in memory? An estimate before any heavy work, so a huge grid is refused in a second
rather than failing with MemoryError after minutes (or being killed by the batch system)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from sstfill.errors import InputError

log = logging.getLogger(__name__)

# Peak resident memory of reconstruct: about 0.7 GB for any small domain (libraries, model, a batch
# of tiles), then growing with the pixel-days of one window of months: a 0.05 degree global month
# (802 M pixel-days) peaks at 5.65 GB with the check and 5.1 GB without (benchmarks/global_cost.py).
# Slightly low rather than high: the estimate refuses only what cannot fit.
FIXED_BYTES = 0.8e9
BYTES_PER_PIXEL_DAY = {True: 6.0, False: 5.3}  # with, without the check on withheld observations


def estimate_bytes(ny: int, nx: int, days: int, *, check: bool) -> float:
    """Peak memory of reconstructing windows of `days` days on an ny x nx grid."""
    return FIXED_BYTES + BYTES_PER_PIXEL_DAY[check] * ny * nx * days


def available_bytes() -> float | None:
    """Memory this process may still use: the least of free memory, its cgroup's (a SLURM job's) room and
    its address-space limit; None where none of them can be read."""
    limits = [_mem_available(), _cgroup_room()]
    if resource is not None:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(float(soft))
    known = [x for x in limits if x is not None]
    return min(known) if known else None


def _mem_available() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> float | None:
    """cgroup v2 (memory.max) or v1 (memory.limit_in_bytes) limit minus what the group already uses."""
    files = (("memory.max", "memory.current"), ("memory.limit_in_bytes", "memory.usage_in_bytes"))
    for limit_file, usage_file in files:
        for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory")):
            try:
                limit = (root / limit_file).read_text().strip()
                usage = float((root / usage_file).read_text().strip())
            except (OSError, ValueError):
                continue
            if limit.isdigit() and float(limit) < 2**60:
                return float(limit) - usage
    return None


def check_fits(ny: int, nx: int, days: int, *, check: bool, where: str) -> None:
    """Refuse a grid whose windows of months would not fit in the memory left; log the estimate."""
    need = estimate_bytes(ny, nx, days, check=check)
    have = available_bytes()
    log.debug("memory: about %.1f GB needed for %d x %d x %d days, %s available", need / 1e9, ny, nx, days,
              "unknown" if have is None else f"{have / 1e9:.1f} GB")
    if have is not None and need > have:
        raise InputError(
            f"expected a grid that fits in memory, found {ny} x {nx} pixels in {where}: a window of {days} days needs "
            f"about {need / 1e9:.0f} GB and {have / 1e9:.0f} GB are available; split the domain into regions (e.g. "
            f"by latitude bands), or run on a node with more memory"
            + ("" if not check else " (--no-check needs less)")
        )
