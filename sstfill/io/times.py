"""The time axis of a file: named "time", holding dates, in its calendar.

The time dimension may have another name (ERA5's ``valid_time``), or be a scalar time
coordinate of a one-day file; its values must decode to dates (CF units such as
"days since 1981-01-01", any CF calendar).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import xarray as xr

from sstfill.errors import InputError


def time_dimension(ds: xr.Dataset, da: xr.DataArray, variable: str, lat_dim: Hashable, lon_dim: Hashable, *,
                   where: str) -> xr.DataArray:
    """The variable with its time dimension named "time": another name (valid_time), or a scalar time made a
    dimension."""
    if "time" not in da.dims:
        others = [d for d in da.dims if d not in (lat_dim, lon_dim)]
        candidates = [d for d in others if d in ds.coords and is_datetime(ds[d])]
        scalars = [str(n) for n, c in ds.coords.items() if c.ndim == 0 and is_datetime(c)]
        if len(candidates) == 1:
            da = da.rename({candidates[0]: "time"})
        elif not candidates and len(scalars) == 1:
            da = da.expand_dims(time=[ds[scalars[0]].values[()]])
        else:
            raise InputError(
                f"expected {variable!r} in {where} to have a time dimension, found dimensions {da.dims}"
                f"{' and no time coordinate' if not candidates else ''}; sstfill needs daily fields (time, lat, lon): "
                "add the date as a time dimension (e.g. xarray expand_dims or ncecat -u time)"
            )
    if "time" not in da.coords or not is_datetime(da["time"]):
        units = ds["time"].attrs.get("units") if "time" in ds.variables else None
        raise InputError(
            f"expected dates on the time axis of {where} (CF units such as 'days since 1981-01-01'), found "
            f"{'units ' + repr(units) if units else 'no decodable time coordinate'}; fix the time variable's units "
            "and calendar attributes"
        )
    return da


def is_datetime(var: xr.DataArray) -> bool:
    """True for dates: numpy datetime64 or cftime objects."""
    if np.issubdtype(var.dtype, np.datetime64):
        return True
    return var.dtype == object and var.size > 0 and hasattr(var.values.flat[0], "calendar")


def time_calendar(time: xr.DataArray) -> str:
    calendar = time.encoding.get("calendar") or time.attrs.get("calendar")
    if calendar:
        return str(calendar)
    first = time.values.flat[0] if time.size else None
    return getattr(first, "calendar", "standard") or "standard"
