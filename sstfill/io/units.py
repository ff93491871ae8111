"""SST units: kelvin or degrees Celsius however spelt, and values converted to kelvin."""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from sstfill.errors import InputError

KELVIN_UNITS = {"k", "kelvin", "kelvins"}
CELSIUS_UNITS = {"c", "celsius", "centigrade"}


def to_kelvin(da: xr.DataArray, *, where: str) -> xr.DataArray:
    units = str(da.attrs.get("units", "")).strip()
    scale = temperature_scale(units)
    if scale is None:
        raise InputError(
            f"expected SST units of kelvin (K) or degrees Celsius (degC) in {where}, found {units!r}; "
            "set the variable's units attribute (e.g. ncatted -a units,sst,o,c,K)"
        )
    offset = 273.15 if scale == "celsius" else 0.0
    attrs = dict(da.attrs)
    out = (da.astype(np.float32) + np.float32(offset)) if offset else da.astype(np.float32)
    attrs["units"] = "K"
    out.attrs = attrs
    return out


def temperature_scale(units: str) -> str | None:
    """"kelvin", "celsius" or None for a units string: K, kelvin, degK, degC, degree_C,
    degrees Celsius, deg_C, °C, Celsius ... (case, spaces, underscores and a degree prefix
    do not matter)."""
    key = re.sub(r"[\s_]+", "", units.lower())
    key = re.sub(r"^(degrees|degree|deg|°)", "", key)
    if key in KELVIN_UNITS:
        return "kelvin"
    if key in CELSIUS_UNITS:
        return "celsius"
    return None
