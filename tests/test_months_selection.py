"""reconstruct --months: which months a spec names, and a month's map independent of the run's other months."""

import numpy as np
import pytest
import xarray as xr

from sstfill.data.months import group_months, select_months
from sstfill.errors import InputError
from sstfill.reconstruct import reconstruct


@pytest.fixture(scope="module")
def months():
    time = xr.DataArray(np.arange("2020-11-01", "2021-04-01", dtype="datetime64[D]"), dims="time")
    return group_months(time)  # 2020-11 .. 2021-03


@pytest.mark.parametrize("spec, expected", [
    (None, [0, 1, 2, 3, 4]),
    ("2021-01", [2]),
    ("2020-12:2021-02", [1, 2, 3]),
    ("2021-03, 2020-11", [0, 4]),
    ("2020-01:2020-12", [0, 1]),  # a range takes the input's months within it
    ("2021-02,2021-01:2021-02", [2, 3]),
])
def test_a_spec_names_months_in_time_order(months, spec, expected):
    assert select_months(months, spec) == expected


@pytest.mark.parametrize("spec, fragment", [
    ("2021-05", "outside them"),
    ("2019-01:2019-12", "outside them"),
    ("2021-13", "YYYY-MM"),
    ("2021/01", "YYYY-MM"),
    ("2021-03:2021-01", "from early to late"),
    ("2021-01:2021-02:2021-03", "from early to late"),
    ("", "YYYY-MM"),
])
def test_a_bad_spec_is_refused_with_the_input_span(months, spec, fragment):
    with pytest.raises(InputError, match=fragment):
        select_months(months, spec)


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
