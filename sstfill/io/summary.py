"""What a command wrote, as plain values for one JSON line on stdout (--json), read back from the file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr


def month_labels_of(path: Path) -> list[str]:
    """'YYYY-MM' of each time step of a file, in any CF calendar."""
    with xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)) as ds:
        return [f"{t.year:04d}-{t.month:02d}" for t in ds["time"].values]


def reconstruction_summary(path: Path) -> dict[str, Any]:
    """The months written, the model, and per month the share of ocean pixels seen on at least one day."""
    labels = month_labels_of(path)
    observed = {}
    with netCDF4.Dataset(path) as nc:
        model_id = str(getattr(nc, "model_id", ""))
        ocean = 0
        for index, label in enumerate(labels):
            has_value = ~np.ma.getmaskarray(nc["sst"][index])
            seen = has_value & (np.ma.filled(nc["nobs"][index], 0) > 0)
            ocean = int(has_value.sum())
            observed[label] = round(float(seen.sum()) / max(ocean, 1), 4)
    return {"output": str(path.resolve()), "months": labels, "model_id": model_id, "ocean_pixels": ocean,
            "observed_share": observed}


def store_summary(path: Path) -> dict[str, Any]:
    """The months a training store holds and how it was made."""
    with netCDF4.Dataset(path) as nc:
        years, months = np.asarray(nc["year"][:]), np.asarray(nc["month_of_year"][:])
        mode = str(getattr(nc, "training_mode", ""))
    labels = [f"{int(y):04d}-{int(m):02d}" for y, m in zip(years, months, strict=True)]  # 1..12 on disk
    return {"output": str(path.resolve()), "months": labels, "training_mode": mode}
