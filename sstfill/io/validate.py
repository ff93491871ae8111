"""Is there anything to reconstruct from? Checked early, before any model or output.

``check_valid_data`` stops when the input, or one of the months to process, holds no valid
value (a finite value within ``sstfill.io.plausible.PLAUSIBLE_SST_K``), and says how many
implausible values were made missing. It reads the input's validity: one lazy pass over
the data, file by file (``sstfill.io.daily.scan_validity``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sstfill.errors import InputError
from sstfill.io.daily import DailyInput, Validity
from sstfill.io.plausible import check_plausible


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
