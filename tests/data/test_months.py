"""Months of the input (sstfill.data.months): grouping by calendar, selection, slots, windows and bounds."""

import numpy as np
import pytest
import xarray as xr

from sstfill.data.months import (
    centred_windows,
    group_months,
    incomplete_text,
    load_month,
    month_bounds,
    monthly_means,
    padded_days_mask,
    select_months,
)
from sstfill.errors import InputError


def days(start, n, calendar="standard"):
    return xr.DataArray(xr.date_range(start, periods=n, freq="D", calendar=calendar, use_cftime=calendar != "standard"),
                        dims="time")


def test_group_months_standard_calendar_with_a_missing_day():
    time = days("2021-01-30", 32).drop_isel(time=[5])
    months = group_months(time)
    assert [m.label for m in months] == ["2021-01", "2021-02", "2021-03"]
    assert [m.days_in_month for m in months] == [31, 28, 31]
    assert list(months[1].day_slots) == [0, 1, 2, *range(4, 28)]  # 4 February is absent: slot 3 stays empty


def test_months_the_input_covers_in_part_are_named():
    assert incomplete_text(group_months(days("2021-01-01", 59))) is None
    time = days("2021-01-15", 26).drop_isel(time=[5])
    assert incomplete_text(group_months(time)) == "2021-01 (days 15-19, 21-31 of 31), 2021-02 (days 1-9 of 28)"
    assert incomplete_text(group_months(days("2021-01-01", 30, calendar="360_day"))) is None


@pytest.fixture(scope="module")
def months():
    time = xr.DataArray(np.arange("2020-11-01", "2021-04-01", dtype="datetime64[D]"), dims="time")
    return group_months(time)  # 2020-11 .. 2021-03


@pytest.mark.parametrize(("spec", "expected"), [
    (None, [0, 1, 2, 3, 4]),
    ("2021-01", [2]),
    ("2020-12:2021-02", [1, 2, 3]),
    ("2021-03, 2020-11", [0, 4]),
    ("2020-01:2020-12", [0, 1]),  # a range takes the input's months within it
    ("2021-02,2021-01:2021-02", [2, 3]),
])
def test_a_spec_names_months_in_time_order(months, spec, expected):
    assert select_months(months, spec) == expected


@pytest.mark.parametrize(("spec", "fragment"), [
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


def test_daily_references_become_monthly_means(caplog):
    time = days("2021-01-01", 41)  # all of January, 10 days of February
    values = np.random.default_rng(0).normal(290.0, 1.0, (41, 2, 3)).astype(np.float32)
    values[4, 1, 2] = np.nan  # a pixel missing on one day has no monthly mean
    daily = xr.DataArray(values, dims=("time", "lat", "lon"), coords={"time": time}, attrs={"units": "K"})
    shuffled = daily.isel(time=np.random.default_rng(1).permutation(41))  # as files may come
    with caplog.at_level("INFO", logger="sstfill"):
        means = monthly_means(shuffled, where="the reference").compute()
    assert list(means["time"].dt.month.values) == [1, 2] and means.attrs["units"] == "K"
    np.testing.assert_allclose(means[0].values.ravel()[:5], values[:31].mean(axis=0).ravel()[:5], rtol=1e-6)
    assert np.isnan(means[0, 1, 2]) and np.isfinite(means[1, 1, 2])
    np.testing.assert_allclose(means[1].values, values[31:].mean(axis=0), rtol=1e-6)
    assert "41 time steps in 2 months" in caplog.text
    assert "covers only part of 2021-02 (10 of 28 days): those means are not monthly means" in caplog.text
    monthly = means.assign_coords(time=xr.date_range("2021-01-01", periods=2, freq="MS"))  # one step a month: unchanged
    assert monthly_means(monthly, where="x") is monthly


def test_calendars_decide_month_lengths():
    assert [m.days_in_month for m in group_months(days("2021-02-01", 40, "360_day"))] == [30, 30]
    assert group_months(days("2020-02-01", 29, "noleap"))[0].days_in_month == 28
    assert group_months(days("2021-02-01", 29, "all_leap"))[0].days_in_month == 29
    padded = padded_days_mask(group_months(days("2021-02-01", 40, "360_day")))
    assert padded.shape == (2, 31) and padded[:, 30].all() and not padded[:, :30].any()


@pytest.mark.parametrize("chunked", [True, False])  # a lazy (dask) input or one in memory
@pytest.mark.parametrize("taken", [[0, 2, 27], [3, 4, 5]])  # with gaps between the days, or consecutive ones
def test_load_month_places_days_in_slots_and_leaves_nan(taken, chunked):
    time = days("2021-02-01", 28).isel(time=taken)
    sst = xr.DataArray(np.ones((3, 2, 2), np.float64) * np.array([1, 2, 3])[:, None, None], dims=("time", "lat", "lon"),
                       coords={"time": time})
    ocean = np.array([[True, True], [True, False]])
    out = load_month(sst.chunk({"time": 1}) if chunked else sst, group_months(time)[0], ocean, sigma_px=2.0,
                     periodic_x=False).slots
    assert out.shape == (31, 2, 2) and out.dtype == np.float32
    assert [out[slot, 0, 0] for slot in taken] == [1, 2, 3]
    empty = np.setdiff1d(np.arange(31), taken)
    assert np.isnan(out[empty]).all() and np.isnan(out[:, 1, 1]).all()


def test_centred_windows():
    assert centred_windows(3, 1) == [(range(1), 0), (range(1, 2), 0), (range(2, 3), 0)]
    assert centred_windows(5, 3) == [(range(3), 0), (range(3), 1), (range(1, 4), 1), (range(2, 5), 1),
                                     (range(2, 5), 2)]
    assert centred_windows(2, 3) == [(range(2), 0), (range(2), 1)]  # fewer months than the window


def test_bounds():
    months = group_months(days("2021-11-01", 92))
    starts, ends = month_bounds(months, "standard", np.array(["2021-11-01"], dtype="datetime64[ns]"))
    assert str(ends[-1])[:10] == "2022-02-01" and str(starts[0])[:10] == "2021-11-01"
    starts, ends = month_bounds(months[:1], "360_day", np.array([object()]))
    assert (ends[0] - starts[0]).days == 30
