"""The reconstruct stage: a month's map independent of the run's other months, and the warnings it gives
about an input covered in part or a grid spacing the model was not trained on."""

import logging

import numpy as np
import xarray as xr

from sstfill.checkpoint import load_model
from sstfill.reconstruct import reconstruct, warn_if_unseen_spacing


def test_a_month_does_not_depend_on_the_other_months_of_the_run(small_region, tiny_model, tmp_path):
    """With the check on (the default), a one-month run writes the same map as a run of all months."""
    daily = small_region[0]
    whole = reconstruct([daily], tmp_path / "all.nc", model=tiny_model, device="cpu")
    parts = [reconstruct([daily], tmp_path / f"{m}.nc", model=tiny_model, device="cpu", months=m)
             for m in ("2021-02", "2021-03:2021-04")]
    with xr.open_dataset(whole) as a, xr.open_mfdataset(parts) as b:
        assert list(b["time"].values) == list(a["time"].values[1:])
        for name in ("sst", "sst_uncertainty", "nobs"):
            difference = (a[name].isel(time=slice(1, None)) - b[name]).values
            assert np.sqrt(np.nanmean(difference ** 2)) <= 0.01
        assert "2021-01:" in a["sst_uncertainty"].attrs["calibration"]
        assert "2021-01:" not in b["sst_uncertainty"].attrs["calibration"]


def test_reconstruct_warns_about_a_month_covered_in_part(small_region, tiny_model, tmp_path, caplog):
    with xr.open_dataset(small_region[0]) as ds:
        path = tmp_path / "daily.nc"
        ds.sel(time=slice("2021-01-10", "2021-01-31")).to_netcdf(path)
    with caplog.at_level("WARNING", logger="sstfill"):
        reconstruct([path], tmp_path / "out.nc", model=tiny_model, device="cpu")
    assert "the input covers only part of 2021-01 (days 10-31 of 31)" in caplog.text


def test_a_grid_spacing_unseen_in_training_is_warned_about(tiny_model, caplog):
    loaded = load_model(tiny_model)
    loaded.contract.grid_spacing_deg = [0.05, 0.25]
    for spacing, warned in ((0.25, False), (0.04, False), (0.3, False), (0.02, True), (1.0, True)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="sstfill"):
            warn_if_unseen_spacing(loaded, spacing)
        assert ("has not been measured" in caplog.text) == warned, spacing
