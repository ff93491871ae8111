"""Time in any CF calendar: the generator's daily and monthly axes, and reading its times back."""

from itertools import pairwise

import numpy as np
import xarray as xr

_STANDARD_CALENDARS = ("standard", "gregorian", "proleptic_gregorian")
_CFTIME_CALENDARS = ("noleap", "365_day", "360_day", "all_leap", "366_day", "julian")


def _time_axes(start, n_months, calendar):
    """Daily and month-start axes, and the month index of each day."""
    if calendar not in _STANDARD_CALENDARS + _CFTIME_CALENDARS:
        raise ValueError(f"calendar must be one of {_STANDARD_CALENDARS + _CFTIME_CALENDARS}, "
                         f"got {calendar!r}")
    use_cftime = calendar not in _STANDARD_CALENDARS
    kind = {"calendar": "standard" if not use_cftime else calendar, "use_cftime": use_cftime}
    first = xr.date_range(start, periods=1, freq="D", **kind)[0]
    months = xr.date_range(start, periods=n_months + 1, freq="MS", **kind)
    if months[0] != first or first.hour or first.minute or first.second:
        raise ValueError(f"start must be the first day of a month at 00:00, got {start!r}")
    days = xr.date_range(months[0], months[-1], freq="D", inclusive="left", **kind)
    lengths = [(b - a).days for a, b in pairwise(months)]
    return days, months, np.repeat(np.arange(n_months), lengths)


def _year_fraction(days):
    """Fraction of the calendar year at each day (0 on 1 January), whatever the calendar."""
    dt = xr.DataArray(days, dims="time").dt
    return ((dt.dayofyear.values - 1) / dt.days_in_year.values).astype(np.float32)


def _is_time(var):
    return var.dtype.kind == "M" or (var.dtype == object and var.size
                                     and hasattr(var.values.flat[0], "calendar"))


def _calendar_of(var):
    return "standard" if var.dtype.kind == "M" else var.values.flat[0].calendar


def _as_datetime(t, calendar: str = "standard"):
    """A cftime.datetime (or datetime for numpy datetime64) of a generator time value."""
    import cftime

    if isinstance(t, cftime.datetime):
        return t
    stamp = np.datetime64(t, "s").astype(object)
    return stamp if calendar in _STANDARD_CALENDARS else cftime.datetime(*stamp.timetuple()[:6], calendar=calendar)
