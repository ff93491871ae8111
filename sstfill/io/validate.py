"""Is there anything to reconstruct from? One lazy pass over the input, file by file.

``scan_validity`` counts valid pixels per day and marks pixels ever valid (a file whose data
cannot be read is named in the error); ``check_valid_data`` stops early, before any model or
output, when the input or one of the months to process holds no valid value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dask
import numpy as np

from sstfill.errors import InputError
from sstfill.io.files import one_line

if TYPE_CHECKING:
    from sstfill.io.read import DailyInput


@dataclass(frozen=True)
class Validity:
    """Where and when the input has valid values: one pass over the data."""

    observed: np.ndarray  # (lat, lon) bool, True where at least one day is valid
    per_day: np.ndarray  # (time,) int64, valid pixels on each day, in time order

    @property
    def total(self) -> int:
        return int(self.per_day.sum())


def scan_validity(daily: DailyInput) -> Validity:
    """One pass over the input, file by file: pixels ever valid, and valid pixels per day."""
    pieces = daily.pieces or [(daily.sources_text, daily.sst)]
    observed = np.zeros((daily.sst.sizes["lat"], daily.sst.sizes["lon"]), dtype=bool)
    counts = []
    for source, da in pieces:
        valid = da.notnull()
        try:
            any_day, per_day = dask.compute(valid.any("time"), valid.sum(("lat", "lon")))
        except (OSError, RuntimeError, ValueError) as exc:  # HDF5/netCDF errors from truncated or corrupt data
            raise InputError(
                f"could not read the SST values in {source} ({one_line(exc)}); "
                "check the file is complete (re-download or regenerate it)"
            ) from exc
        observed |= np.asarray(any_day.values, dtype=bool)
        counts.append(np.asarray(per_day.values, dtype=np.int64))
    per_day = np.concatenate(counts)
    if daily.pieces and daily.order is not None:
        per_day = per_day[daily.order]
    return Validity(observed=observed, per_day=per_day)


def check_valid_data(daily: DailyInput, months: Sequence = ()) -> Validity:
    """Stop early, before any model or output, when there is nothing to reconstruct from.

    ``months`` are the months to be processed (objects with ``label`` and ``time_indices``);
    each must hold at least one valid value.
    """
    validity = daily.validity()
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
