"""The synthetic-data factory (sstfill.testing.synthetic_sst): reproducible, CF-shaped, and realistic where
consumers rely on it."""

from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr

from sstfill.io.coastline import land_mask
from sstfill.testing import FREEZING_K, make_grid, synthetic_sst

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def _ocean(monthly):
    return np.isfinite(monthly.sst.values[0])


# ------------------------------------------------------------------------ shapes


def test_shapes_dtypes_and_cf_attributes(grid, month):
    daily, monthly = month
    lat, lon = grid
    assert daily.sst.dims == ("time", "lat", "lon") and daily.sst.shape == (31, 64, 64)
    assert daily.sst.dtype == np.float32 and daily.quality_level.dtype == np.int8
    assert monthly.sst.shape == (1, 64, 64) and monthly.sst.dtype == np.float32
    np.testing.assert_array_equal(daily.lat, lat)
    np.testing.assert_array_equal(daily.lon, lon)
    for ds in month:
        assert ds.sst.attrs["standard_name"] == "sea_surface_temperature"
        assert ds.sst.attrs["units"] == "kelvin" and ds.sst.attrs["long_name"]
        assert ds.lat.attrs["units"] == "degrees_north" and ds.lat.standard_name == "latitude"
        assert ds.lon.attrs["units"] == "degrees_east" and ds.lon.standard_name == "longitude"
        assert ds.attrs["title"]
    assert daily.time.dtype.kind == "M"
    assert (daily.time.dt.hour == 0).all()
    assert monthly.time.attrs["bounds"] == "time_bnds"
    np.testing.assert_array_equal(monthly.time_bnds.values[0],
                                  np.array(["2021-01-01", "2021-02-01"], dtype="datetime64[ns]"))


# -------------------------------------------------------------------- reproducibility


def test_same_seed_same_arrays_and_another_seed_differs(grid, month):
    again_daily, again_monthly = synthetic_sst(*grid, n_months=1, seed=7)
    xr.testing.assert_identical(again_daily, month[0])
    xr.testing.assert_identical(again_monthly, month[1])
    other_daily, other_monthly = synthetic_sst(*grid, n_months=1, seed=8)
    assert not np.allclose(other_monthly.sst, month[1].sst, equal_nan=True)
    assert (np.isfinite(other_daily.sst) != np.isfinite(month[0].sst)).mean() > 0.2


# ------------------------------------------------------------------------- calendars


@pytest.mark.parametrize(("calendar", "lengths"), [
    ("standard", [31, 29, 31]), ("noleap", [31, 28, 31]), ("360_day", [30, 30, 30]),
    ("all_leap", [31, 29, 31]),
])
def test_days_per_month_follow_the_calendar(calendar, lengths):
    lat, lon = make_grid(36.0, 40.0, -70.0, -66.0, 0.25)
    daily, monthly = synthetic_sst(lat, lon, start="2020-01-01", n_months=3, calendar=calendar)
    assert daily.sizes["time"] == sum(lengths)
    np.testing.assert_array_equal(np.bincount(daily.time.dt.month.values)[1:], lengths)
    assert list(monthly.time.dt.day.values) == [1, 1, 1]
    assert list(monthly.time.dt.month.values) == [1, 2, 3]
    end = monthly.time_bnds.values[-1, 1]
    if calendar == "standard":
        assert daily.time.dtype.kind == "M" and end == np.datetime64("2020-04-01")
    else:
        assert daily.time.values[0].calendar == calendar
        assert end == cftime.datetime(2020, 4, 1, calendar=calendar)


def test_start_must_be_a_month_start():
    lat, lon = make_grid(36.0, 40.0, -70.0, -66.0, 0.5)
    with pytest.raises(ValueError, match="first day of a month"):
        synthetic_sst(lat, lon, start="2021-01-15")


# ---------------------------------------------------------------------------- gaps


def test_missing_fraction_follows_cloud_cover(grid, month):
    daily, monthly = month
    ocean = _ocean(monthly)
    missing = np.isnan(daily.sst.values[:, ocean]).mean()
    # Clouds cover about cloud_cover; swath gaps and cloud-edge screening add a little.
    assert 0.55 <= missing <= 0.8
    clear, _ = synthetic_sst(*grid, n_months=1, seed=7, cloud_cover=0.3)
    assert np.isnan(clear.sst.values[:, ocean]).mean() < missing - 0.15


def test_some_ocean_is_never_seen_in_a_month(month):
    daily, monthly = month
    ocean = _ocean(monthly)
    seen_days = np.isfinite(daily.sst.values).sum(axis=0)[ocean]
    assert 0.0 < (seen_days == 0).mean() < 0.15


def test_cloud_mask_persists_from_day_to_day(month):
    daily, monthly = month
    missing = np.isnan(daily.sst.values[:, _ocean(monthly)]).astype(float)
    anomaly = missing - missing.mean(axis=0)

    def lag1(a):
        return (a[1:] * a[:-1]).sum() / np.sqrt((a[1:] ** 2).sum() * (a[:-1] ** 2).sum())

    assert lag1(anomaly) > 0.15
    shuffled = anomaly[np.random.default_rng(0).permutation(len(anomaly))]
    assert abs(lag1(shuffled)) < 0.1


# ------------------------------------------------------------------- land and values


def test_land_is_nan_in_both_datasets_and_matches_the_coastline(grid, month):
    daily, monthly = month
    land = land_mask(*grid)
    assert 0.05 < land.mean() < 0.6
    np.testing.assert_array_equal(np.isnan(monthly.sst.values[0]), land)
    assert np.isnan(daily.sst.values[:, land]).all()
    assert (daily.quality_level.values[:, land] == 0).all()


def test_mean_of_valid_days_is_close_to_but_not_the_truth(month):
    daily, monthly = month
    good = daily.sst.where(daily.quality_level >= 4)
    composite = good.mean("time").values
    error = (composite - monthly.sst.values[0])[np.isfinite(composite)]
    rmse = np.sqrt(np.mean(error**2))
    assert 0.05 < rmse < 1.0


def test_quality_level_separates_good_from_corrupted_retrievals(month):
    daily, monthly = month
    sst, quality = daily.sst.values, daily.quality_level.values
    assert set(np.unique(quality)) <= set(range(6))
    np.testing.assert_array_equal(np.isfinite(sst), quality >= 1)
    bad = (quality >= 1) & (quality <= 3)
    good = quality >= 4
    assert 0.005 < bad.sum() / np.isfinite(sst).sum() < 0.1
    departure = sst - monthly.sst.values[0]
    assert departure[bad].mean() < departure[good].mean() - 0.5  # cold, like undetected cloud
    assert abs(departure[good].mean()) < 0.3


def test_values_stay_in_the_physical_range(month):
    daily, monthly = month
    for values in (daily.sst.values, monthly.sst.values):
        finite = values[np.isfinite(values)]
        assert finite.min() >= FREEZING_K and finite.max() <= 310.0


def test_polar_water_is_floored_at_freezing_and_tropics_are_warm():
    lat, lon = make_grid(-80.0, 80.0, 150.0, 230.0, 2.0)
    _, monthly = synthetic_sst(lat, lon, n_months=1, seed=1)
    sst = monthly.sst.values[0]
    assert np.nanmin(sst) >= FREEZING_K
    assert np.nanmin(sst[np.abs(lat) > 70]) < FREEZING_K + 2.0
    assert 299.0 < np.nanmean(sst[np.abs(lat) < 8]) < 304.0


# --------------------------------------------------------------------------- global


@pytest.mark.parametrize("lon_min", [0.0, -180.0])
def test_global_grid_wraps_without_a_seam(lon_min):
    lat, lon = make_grid(-90.0, 90.0, lon_min, lon_min + 360.0, 1.0)
    daily, monthly = synthetic_sst(lat, lon, n_months=1, seed=3)
    sst = monthly.sst.values[0]
    neighbours = np.nanmean(np.abs(np.diff(sst, axis=1)), axis=0)
    seam = np.nanmean(np.abs(sst[:, 0] - sst[:, -1]))
    assert seam < 1.6 * np.median(neighbours)  # 2.4-2.8 times when longitude is not wrapped
    seen = np.isfinite(daily.sst.values)
    changes = (seen[:, :, 1:] != seen[:, :, :-1]).mean(axis=(0, 1))
    assert (seen[:, :, 0] != seen[:, :, -1]).mean() < 1.6 * np.median(changes)


# ------------------------------------------------------------------- bundled sample


def test_sample_data_is_small_and_matches_the_factory():
    daily_path, truth_path = SAMPLE_DATA / "daily_sst.nc", SAMPLE_DATA / "monthly_truth.nc"
    assert daily_path.stat().st_size + truth_path.stat().st_size < 5_000_000
    with xr.open_dataset(daily_path) as daily, xr.open_dataset(truth_path) as truth:
        assert daily.sst.dims == ("time", "lat", "lon") and daily.sizes["time"] == 90
        assert truth.sizes["time"] == 3 and "time_bnds" in truth
        ocean = ~land_mask(truth.lat.values, truth.lon.values)
        np.testing.assert_array_equal(np.isfinite(truth.sst.values[0]), ocean)
        seen = np.isfinite(daily.sst.values)
        for month in (1, 2, 3):
            days = seen[daily.time.dt.month.values == month]
            assert 0.0 < (days.sum(axis=0)[ocean] == 0).mean() < 0.1


