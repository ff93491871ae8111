"""The daily input as sstfill holds it: lazy SST in kelvin on the input's own grid.

``open_daily`` (sstfill.io.read) makes one from the user's files. ``validity`` is one lazy
pass over the data, file by file (``scan_validity``): pixels ever valid and valid pixels
per day, cached; a file whose data cannot be read is named in the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dask
import dask.array
import numpy as np
import xarray as xr

from sstfill.errors import InputError
from sstfill.io.files import one_line
from sstfill.io.grid import is_global_longitude
from sstfill.io.plausible import PLAUSIBLE_SST_K, Implausible
from sstfill.io.times import time_calendar


@dataclass
class DailyInput:
    """Daily SST on the input's own grid, lazily loaded, in kelvin, NaN where not valid
    (missing, below the quality threshold, or outside plausible.PLAUSIBLE_SST_K)."""

    sst: xr.DataArray  # (time, lat, lon), float32 kelvin, chunked by read.days_per_chunk
    variable: str
    standard_name: str
    sources: list[str]
    land: np.ndarray | None = None  # (lat, lon) True on land, when the file carries a mask
    attrs: dict = field(default_factory=dict)
    min_quality: int | None = None  # the quality_level threshold applied, None when the input had none
    # per file, in file order, all values
    pieces: list[tuple[str, xr.DataArray]] = field(default_factory=list, repr=False)
    order: np.ndarray | None = field(default=None, repr=False)  # sorts the concatenated pieces by time
    _validity: Validity | None = field(default=None, repr=False)

    @property
    def lat(self) -> np.ndarray:
        return self.sst["lat"].values

    @property
    def lon(self) -> np.ndarray:
        return self.sst["lon"].values

    @property
    def periodic_x(self) -> bool:
        return is_global_longitude(self.lon)

    @property
    def grid_steps_deg(self) -> tuple[float, float]:
        """The median latitude and longitude steps in degrees (0 along an axis of one point)."""
        def step(axis: np.ndarray) -> float:
            return float(np.median(np.abs(np.diff(axis)))) if axis.size > 1 else 0.0

        return step(self.lat), step(self.lon)

    @property
    def grid_spacing_deg(self) -> float:
        """One spacing for the grid: the geometric mean of its steps (the one step of a single row or column)."""
        steps = [s for s in self.grid_steps_deg if s > 0]
        return float(np.sqrt(np.prod(steps))) if len(steps) == 2 else (steps[0] if steps else 0.0)

    @property
    def calendar(self) -> str:
        return time_calendar(self.sst["time"])

    @property
    def sources_text(self) -> str:
        """The input files, shortened to the first one and a count when there are many."""
        if len(self.sources) <= 3:
            return ", ".join(self.sources)
        return f"{self.sources[0]} and {len(self.sources) - 1} more files"

    def validity(self) -> Validity:
        """Pixels ever valid and valid pixels per day: one lazy pass over the data, cached.

        Reads each file in turn, so a file whose data cannot be read is named in the error.
        """
        if self._validity is None:
            self._validity = scan_validity(self)
        return self._validity


@dataclass(frozen=True)
class Validity:
    """Where and when the input has valid values: one pass over the data."""

    observed: np.ndarray  # (lat, lon) bool, True where at least one day is valid
    per_day: np.ndarray  # (time,) int64, valid pixels on each day, in time order
    implausible: Implausible = Implausible()

    @property
    def total(self) -> int:
        return int(self.per_day.sum())


def scan_validity(daily: DailyInput) -> Validity:
    """One pass over the input, file by file: pixels ever valid, and valid pixels per day."""
    pieces = daily.pieces or [(daily.sources_text, daily.sst)]
    observed = np.zeros((daily.sst.sizes["lat"], daily.sst.sizes["lon"]), dtype=bool)
    counts = []
    found = Implausible()
    for source, da in pieces:
        try:
            per_day, found_here = _scan_piece(dask.array.asarray(da.data), observed)
        except (OSError, RuntimeError, ValueError) as exc:  # HDF5/netCDF errors from truncated or corrupt data
            raise InputError(
                f"could not read the SST values in {source} ({one_line(exc)}); "
                "check the file is complete (re-download or regenerate it)"
            ) from exc
        counts.append(per_day)
        found += found_here
    per_day = np.concatenate(counts)
    if daily.pieces and daily.order is not None:
        per_day = per_day[daily.order]
    return Validity(observed=observed, per_day=per_day, implausible=found)


def _scan_piece(data: dask.array.Array, observed: np.ndarray) -> tuple[np.ndarray, Implausible]:
    """One file's (time, lat, lon) values, block by block (_block_validity): its valid pixels per day and
    its implausible values; `observed` gains the pixels valid on any of its days."""
    blocks = data.to_delayed()
    positions = list(np.ndindex(blocks.shape))
    starts = [np.cumsum((0, *chunks))[:-1] for chunks in data.chunks]
    results = dask.compute(*[dask.delayed(_block_validity)(blocks[position]) for position in positions])
    per_day = np.zeros(data.shape[0], np.int64)
    found = Implausible()
    for position, (any_day, valid_per_day, found_here) in zip(positions, results, strict=True):
        t, y, x = (int(start[i]) for start, i in zip(starts, position, strict=True))
        observed[y:y + any_day.shape[0], x:x + any_day.shape[1]] |= any_day
        per_day[t:t + valid_per_day.size] += valid_per_day
        found += found_here
    return per_day, found


def _block_validity(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, Implausible]:
    """One (days, lat, lon) block: (pixels valid on any of its days, valid pixels per day, its
    implausible values). Two boolean arrays in all: at 0.05 degree a day is 100 MB, and fresh memory
    for each of the comparisons xarray would make was most of the pass's time (docs/research.md)."""
    low, high = PLAUSIBLE_SST_K
    valid = np.greater_equal(block, low)  # NaN compares False: valid is within the plausible range
    within = np.less_equal(block, high)
    valid &= within
    missing = np.count_nonzero(np.isnan(block, out=within))
    per_day = np.count_nonzero(valid, axis=(1, 2))
    if missing == block.size:
        return valid.any(axis=0), per_day, Implausible()
    found = Implausible(block.size - missing - int(per_day.sum()), float(np.nanmin(block)), float(np.nanmax(block)))
    return valid.any(axis=0), per_day, found
