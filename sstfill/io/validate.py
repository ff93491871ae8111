"""Is there anything to reconstruct from? One lazy pass over the input, file by file.

``scan_validity`` counts valid pixels per day and marks pixels ever valid (a file whose data
cannot be read is named in the error); ``check_valid_data`` stops early, before any model or
output, when the input or one of the months to process holds no valid value.

A valid value is finite and within PLAUSIBLE_SST_K. Values outside it are made missing
wherever SST is read (``plausible_only``), and ``check_plausible`` says how many there were:
a warning, or an error when no value is left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dask
import numpy as np

from sstfill.errors import InputError
from sstfill.io.files import one_line

if TYPE_CHECKING:
    import xarray as xr

    from sstfill.io.read import DailyInput

log = logging.getLogger(__name__)

PLAUSIBLE_SST_K = (268.15, 318.15)
"""-5 to 45 degC. Sea water freezes near -2 degC and no sea surface, skin included, reaches
45 degC: values outside are fill values the file does not declare, land written as a
number, or wrong units."""


def implausible(da: xr.DataArray) -> xr.DataArray:
    """True where a kelvin value lies outside PLAUSIBLE_SST_K (False where missing); lazy."""
    low, high = PLAUSIBLE_SST_K
    return (da < low) | (da > high)


def plausible_only(da: xr.DataArray) -> xr.DataArray:
    """The kelvin values, with those outside PLAUSIBLE_SST_K made missing; lazy."""
    return da.where(~implausible(da))


@dataclass(frozen=True)
class Implausible:
    """Values outside PLAUSIBLE_SST_K in a file or an input: how many, and the span of all values."""

    count: int = 0
    low: float = float("nan")  # the smallest and largest finite value, in kelvin
    high: float = float("nan")

    def __add__(self, other: Implausible) -> Implausible:
        return Implausible(self.count + other.count, float(np.fmin(self.low, other.low)), float(np.fmax(self.high, other.high)))


def check_plausible_values(da: xr.DataArray, where: str) -> xr.DataArray:
    """Kelvin data with the values outside PLAUSIBLE_SST_K made missing, after one pass that
    counts them (check_plausible); for monthly files, read whole."""
    bad = implausible(da)
    n_bad, n_valid, low, high = dask.compute(bad.sum(), (da.notnull() & ~bad).sum(), da.min(), da.max())
    check_plausible(Implausible(int(n_bad), float(low), float(high)), int(n_valid), where)
    return plausible_only(da) if int(n_bad) else da


def check_plausible(found: Implausible, n_valid: int, where: str) -> None:
    """Warn about values outside PLAUSIBLE_SST_K; stop when they are all there is."""
    if not found.count:
        return
    text = (f"{found.count} value(s) in {where} outside the plausible SST range {PLAUSIBLE_SST_K[0]:g}.."
            f"{PLAUSIBLE_SST_K[1]:g} K (-5..45 degC), among values spanning {found.low:g}..{found.high:g} K")
    advice = ("check the variable's units attribute (K or degC) and its _FillValue "
              "(e.g. ncatted -a _FillValue,sst,o,f,-999)")
    if not n_valid:
        raise InputError(f"expected SST values within {PLAUSIBLE_SST_K[0]:g}..{PLAUSIBLE_SST_K[1]:g} K, found none: "
                         f"{text}; {advice}")
    log.warning("%s: they are treated as missing; %s", text, advice)


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
        bad = implausible(da)
        valid = da.notnull() & ~bad
        try:
            any_day, per_day, n_bad, low, high = dask.compute(valid.any("time"), valid.sum(("lat", "lon")), bad.sum(),
                                                              da.min(), da.max())
        except (OSError, RuntimeError, ValueError) as exc:  # HDF5/netCDF errors from truncated or corrupt data
            raise InputError(
                f"could not read the SST values in {source} ({one_line(exc)}); "
                "check the file is complete (re-download or regenerate it)"
            ) from exc
        observed |= np.asarray(any_day.values, dtype=bool)
        counts.append(np.asarray(per_day.values, dtype=np.int64))
        found += Implausible(int(n_bad), float(low), float(high))
    per_day = np.concatenate(counts)
    if daily.pieces and daily.order is not None:
        per_day = per_day[daily.order]
    return Validity(observed=observed, per_day=per_day, implausible=found)


def check_valid_data(daily: DailyInput, months: Sequence = ()) -> Validity:
    """Stop early, before any model or output, when there is nothing to reconstruct from.

    ``months`` are the months to be processed (objects with ``label`` and ``time_indices``);
    each must hold at least one valid value.
    """
    validity = daily.validity()
    check_plausible(validity.implausible, validity.total, daily.sources_text)
    quality = f", or has quality_level below --min-quality {daily.min_quality}" if daily.min_quality is not None else ""
    if validity.total == 0:
        raise InputError(
            f"expected valid SST values in {daily.sources_text} (variable {daily.variable!r}), found none at all: "
            f"every value is the fill value or NaN{quality}; check --var, the variable's _FillValue and --min-quality"
        )
    empty = [m.label for m in months if validity.per_day[m.time_indices].sum() == 0]
    if empty:
        raise InputError(
            f"expected valid SST in every month of the input, found none in {', '.join(empty)} "
            f"(every value is the fill value or NaN{quality}); drop those days from the input"
            f"{' or lower --min-quality' if quality else ''}"
        )
    return validity
