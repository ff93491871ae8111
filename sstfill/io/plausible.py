"""Plausible SST: what a valid value is, and what is done with the others.

A valid value is finite and within PLAUSIBLE_SST_K. Values outside it are made missing
wherever SST is read (``plausible_only``), and ``check_plausible`` says how many there were:
a warning, or an error when no value is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dask
import numpy as np
import xarray as xr

from sstfill.errors import InputError

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
        return Implausible(self.count + other.count, float(np.fmin(self.low, other.low)),
                           float(np.fmax(self.high, other.high)))


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
