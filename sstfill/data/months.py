"""Group daily fields into calendar months and lay them out as (month, day-of-month) slots.

The model sees each month as MAX_MONTH_DAYS day slots; slot d holds day d + 1 of the month.
Slots past the month's length (in the file's own calendar: 28..31 days, 30 in 360_day)
are *padded* and masked out of the temporal attention; a day that exists in the calendar
but is absent from the input is simply an all-missing day.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cftime
import dask.array
import numpy as np
import xarray as xr

from sstfill.config import MAX_MONTH_DAYS
from sstfill.errors import InputError

log = logging.getLogger(__name__)

READ_BYTES = 256 * 2**20
"""Days are read from the input in blocks of about this many bytes: each read of a lazy array
costs a fixed overhead (tens of ms on a long input), and a whole month at a time would hold
the month twice."""


@dataclass(frozen=True)
class Month:
    """One calendar month present in the input."""

    year: int
    month: int  # 1..12
    days_in_month: int
    time_indices: np.ndarray  # positions of this month's days on the input time axis
    day_slots: np.ndarray  # day of month - 1, for each of those positions

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def group_months(time: xr.DataArray) -> list[Month]:
    """Months present on a daily time axis (numpy datetime64 or cftime), in time order."""
    years = time.dt.year.values.astype(int)
    months = time.dt.month.values.astype(int)
    days = time.dt.day.values.astype(int)
    lengths = time.dt.days_in_month.values.astype(int)
    keys = years * 12 + (months - 1)
    result = []
    for key in np.unique(keys):
        where = np.flatnonzero(keys == key)
        result.append(Month(year=int(key // 12), month=int(key % 12) + 1, days_in_month=int(lengths[where[0]]),
                            time_indices=where, day_slots=days[where] - 1))
    return result


MONTHS_SPEC_HELP = "YYYY-MM, an inclusive range YYYY-MM:YYYY-MM, or a comma list of those"


def select_months(months: Sequence[Month], spec: str | None) -> list[int]:
    """Positions in `months` of those a --months SPEC names (MONTHS_SPEC_HELP), in time order; all when None.

    A single month must be in the input; a range takes the input's months within it and must hold one."""
    if spec is None:
        return list(range(len(months)))
    keys = {_month_key(m.label): i for i, m in enumerate(months)}
    span = f"{months[0].label} to {months[-1].label}" if months else "none"
    chosen: set[int] = set()
    for part in spec.split(","):
        ends = [_parse_month(text.strip(), spec) for text in part.split(":")]
        if len(ends) > 2 or ends[0] > ends[-1]:
            raise InputError(f"expected --months as {MONTHS_SPEC_HELP}, with ranges from early to late, found "
                             f"{part.strip()!r}; e.g. --months 2021-01:2021-06")
        found = {i for key, i in keys.items() if ends[0] <= key <= ends[-1]}
        if not found:
            raise InputError(f"expected --months within the input's months ({span}), found {part.strip()!r} outside "
                             "them; choose months the input covers")
        chosen |= found
    return sorted(chosen)


def _month_key(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def _parse_month(text: str, spec: str) -> int:
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
        raise InputError(f"expected --months as {MONTHS_SPEC_HELP}, found {spec!r}; e.g. --months 2021-03 or "
                         "--months 2021-01:2021-06")
    return int(parts[0]) * 12 + int(parts[1]) - 1


def incomplete_text(months: Sequence[Month]) -> str | None:
    """Which months the input covers only in part ('2021-01 (days 15-31 of 31), ...'), or None.

    Such a month's map estimates the whole month from the days there are, as if the others
    were cloudy."""
    parts = [f"{m.label} ({_day_ranges(m.day_slots + 1)} of {m.days_in_month})" for m in months
             if m.time_indices.size < m.days_in_month]
    return ", ".join(parts) if parts else None


def _day_ranges(days: np.ndarray) -> str:
    """'1-10, 15, 20-31' for sorted day numbers."""
    breaks = np.flatnonzero(np.diff(days) > 1)
    starts, ends = np.r_[days[0], days[breaks + 1]], np.r_[days[breaks], days[-1]]
    return "days " + ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts, ends, strict=True))


def monthly_means(da: xr.DataArray, *, where: str) -> xr.DataArray:
    """A monthly reference or target as monthly maps: data with several time steps in a month
    (daily or hourly fields, such as a gap-free L4 analysis or a reanalysis) become the mean
    of each month's steps, lazily; a pixel missing at any step has no mean. Monthly data
    come back unchanged. A month whose steps do not cover all of its days gets a warning."""
    labels = np.array(month_labels(da["time"]))
    if np.unique(labels).size == labels.size:
        return da
    order = np.argsort(da["time"].values, kind="stable")  # files may come in any order
    da, labels = da.isel(time=order), labels[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    groups = np.split(np.arange(labels.size), starts[1:])
    time = da["time"]
    day, length = time.dt.day.values, time.dt.days_in_month.values
    covered = [(labels[g[0]], np.unique(day[g]).size, int(length[g[0]])) for g in groups]
    short = [f"{label} ({n} of {total} days)" for label, n, total in covered if n < total]
    log.info("%s has %d time steps in %d months: using the mean of each month's steps", where, labels.size, len(groups))
    if short:
        log.warning("%s covers only part of %s: those means are not monthly means", where, ", ".join(short))
    means = xr.concat([da.isel(time=g).mean("time", skipna=False) for g in groups], dim="time")
    return means.assign_coords(time=time.isel(time=starts).values).assign_attrs(da.attrs)


def month_labels(time: xr.DataArray) -> list[str]:
    """'YYYY-MM' of each time step (as Month.label), to match monthly files to daily months."""
    return [f"{int(y):04d}-{int(m):02d}" for y, m in zip(time.dt.year.values, time.dt.month.values, strict=True)]


def centred_windows(n_months: int, size: int) -> list[tuple[range, int]]:
    """For each month, the window of `size` consecutive months that centres it (shifted at the
    ends of the record), and the month's place in that window. Every month is then predicted
    with as much context on either side as the model was trained with."""
    size = min(size, n_months)
    windows = []
    for i in range(n_months):
        start = min(max(i - size // 2, 0), n_months - size)
        windows.append((range(start, start + size), i - start))
    return windows


def padded_days_mask(months: Sequence[Month], max_days: int = MAX_MONTH_DAYS) -> np.ndarray:
    """(M, max_days) bool, True for slots beyond each month's length."""
    slots = np.arange(max_days)
    return np.stack([slots >= m.days_in_month for m in months])


def month_of_year(months: Sequence[Month]) -> np.ndarray:
    """(M,) int64 calendar month 0..11."""
    return np.array([m.month - 1 for m in months], dtype=np.int64)


def month_bounds(months: Sequence[Month], calendar: str, like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (start of the next month) of each month, as times of the input's kind."""
    def start(year: int, month: int):
        if np.issubdtype(np.asarray(like).dtype, np.datetime64):
            return np.datetime64(f"{year:04d}-{month:02d}-01T00:00:00", "ns")
        return cftime.datetime(year, month, 1, calendar=calendar)

    starts = [start(m.year, m.month) for m in months]
    ends = [start(m.year + m.month // 12, m.month % 12 + 1) for m in months]
    return np.array(starts), np.array(ends)


@dataclass
class MonthFields:
    """One month ready for the model: day slots, the baseline it corrects, and observation counts."""

    slots: np.ndarray  # (max_days, H, W) float32 K, NaN where not valid
    baseline: np.ndarray  # (H, W) float32 K, filled over ocean, NaN on land
    nobs: np.ndarray  # (H, W) int32 valid days

    def without_days(self) -> MonthFields:
        """The month with its baseline and counts but no days: what is kept of a month whose days are no
        longer needed (a global 0.05 degree month's days are 3 GB)."""
        return MonthFields(np.empty((0, *self.slots.shape[1:]), np.float32), self.baseline, self.nobs)


def load_month(sst: xr.DataArray, month: Month, ocean: np.ndarray, *, sigma_px: float | tuple[float, float],
               periodic_x: bool,
               max_days: int = MAX_MONTH_DAYS) -> MonthFields:
    """Read one month of a lazy (time, lat, lon) array into its day slots, and compute its baseline.

    Days are read in blocks of about READ_BYTES into their float32 slots, so the month is
    held once, in float32, whatever the input's dtype (a global 0.05 degree month is 3.2 GB
    that way), plus one block.
    """
    from sstfill.data.baseline import monthly_baseline

    slots = np.empty((max_days, *ocean.shape), dtype=np.float32)
    # Not np.full: the read writes every day it has, and touches the new memory from its threads.
    slots[np.setdiff1d(np.arange(max_days), month.day_slots)] = np.nan
    block = max(1, READ_BYTES // (4 * ocean.size))
    for start in range(0, month.time_indices.size, block):
        indices = month.time_indices[start:start + block]
        days = month.day_slots[start:start + block]
        days_read = sst.isel(time=indices).data
        if isinstance(days_read, dask.array.Array) and np.array_equal(days, np.arange(days[0], days[-1] + 1)):
            # Each chunk straight into its slots: .values would first join the chunks in new memory
            # (a third of the read's time at 0.05 degree, where memory is slow to touch the first time).
            dask.array.store(days_read, slots[days[0]:days[-1] + 1], lock=False)
        else:
            slots[days] = np.asarray(days_read)
    slots[:, ~ocean] = np.nan
    baseline, nobs = monthly_baseline(slots, ocean, sigma_px=sigma_px, periodic_x=periodic_x)
    return MonthFields(slots=slots, baseline=baseline, nobs=nobs)
