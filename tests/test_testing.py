"""The synthetic-data factory: reproducible, CF-shaped, and realistic where consumers rely on it."""

from dataclasses import fields, replace
from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sstfill.io.coastline import land_mask
from sstfill.testing import (FREEZING_K, GeneratorStatistics, make_grid, random_ocean_region, random_statistics,
                             synthetic_sst, write_netcdf)
from sstfill.testing.statistics import (ACCEPTABLE_NOISE_RATIO, CLOUD_DETAIL, PIXEL_NOISE_K, RANDOM_FACTORS,
                                        RANDOM_VALUES)

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def grid():
    """64 x 64 at 0.25 degrees off New England: coast, shelf and the Gulf Stream front."""
    return make_grid(30.0, 46.0, -75.0, -59.0, 0.25)


@pytest.fixture(scope="module")
def month(grid):
    return synthetic_sst(*grid, start="2021-01-01", n_months=1, seed=7, cloud_cover=0.6)


def _ocean(monthly):
    return np.isfinite(monthly.sst.values[0])


# ------------------------------------------------------------------- grid and shapes


@settings(max_examples=30, deadline=None)
@given(lat_min=st.floats(-89.0, 80.0), span=st.floats(1.0, 9.0), lon_min=st.floats(-180.0, 359.0),
       res=st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0]))
def test_make_grid_gives_ascending_cell_centres_inside_the_box(lat_min, span, lon_min, res):
    lat, lon = make_grid(lat_min, lat_min + span, lon_min, lon_min + span, res)
    for axis, lo in ((lat, lat_min), (lon, lon_min)):
        assert axis.size == max(1, round(span / res))
        np.testing.assert_allclose(np.diff(axis), res, rtol=1e-9, atol=1e-9)
        assert axis[0] == pytest.approx(lo + res / 2)


def test_make_grid_rejects_an_empty_box():
    with pytest.raises(ValueError, match="lat_min < lat_max"):
        make_grid(10.0, 10.0, 0.0, 5.0, 0.25)


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


# ------------------------------------------------------------------------------ I/O


@pytest.mark.parametrize("calendar", ["standard", "noleap"])
def test_write_netcdf_round_trips_with_cf_encoding(tmp_path, calendar):
    lat, lon = make_grid(36.0, 40.0, -70.0, -66.0, 0.25)
    daily, monthly = synthetic_sst(lat, lon, n_months=2, calendar=calendar)
    for ds, name in ((daily, "daily.nc"), (monthly, "monthly.nc")):
        path = write_netcdf(ds, tmp_path / name)
        assert path == tmp_path / name
        with xr.open_dataset(path) as back:
            xr.testing.assert_identical(back.load(), ds)
            enc = back.sst.encoding
            assert enc["zlib"] and enc["dtype"] == np.float32 and np.isnan(enc["_FillValue"])
            assert back.time.encoding["calendar"] == calendar
            assert back.time.encoding["units"].startswith("days since")


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


# ------------------------------------------------------------------------ statistics


def test_default_statistics_reproduce_the_bundled_sample_exactly(grid, month):
    """The sample data were written by the factory before its statistics became an argument."""
    explicit = synthetic_sst(*grid, n_months=1, seed=7, cloud_cover=0.6, statistics=GeneratorStatistics())
    for ours, theirs in zip(explicit, month):
        xr.testing.assert_identical(ours, theirs)
    lat, lon = make_grid(24.0, 48.0, -80.0, -48.0, 0.25)  # scripts/make_sample_data.py
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=3, seed=2021, cloud_cover=0.6)
    with xr.open_dataset(SAMPLE_DATA / "daily_sst.nc") as kept_daily, \
            xr.open_dataset(SAMPLE_DATA / "monthly_truth.nc") as kept_truth:
        np.testing.assert_array_equal(daily.sst.values, kept_daily.sst.values)
        np.testing.assert_array_equal(daily.quality_level.values, kept_daily.quality_level.values)
        np.testing.assert_array_equal(truth.sst.values, kept_truth.sst.values)


def test_random_statistics_vary_every_field_within_the_documented_ranges():
    base = GeneratorStatistics()
    draws = [random_statistics(np.random.default_rng(seed)) for seed in range(60)]
    assert random_statistics(np.random.default_rng(3)) == draws[3]
    assert len(set(draws)) == len(draws)

    def ratios(stats, name):
        value, default = getattr(stats, name), getattr(base, name)
        return np.atleast_1d(value) / np.atleast_1d(default)

    for names, lo, hi in RANDOM_FACTORS.values():
        for stats in draws:
            for name in names:
                if getattr(stats, name) is None:
                    continue
                r = ratios(stats, name)
                assert np.allclose(r, r[0]) and lo <= r[0] <= hi, (name, r)
        first = [ratios(s, names[0])[0] for s in draws if getattr(s, names[0]) is not None]
        assert max(first) / min(first) > (hi / lo) ** 0.7, names  # spread over the range
    for name, (lo, hi) in RANDOM_VALUES.items():
        values = [getattr(s, name) for s in draws]
        assert lo <= min(values) and max(values) <= hi and max(values) - min(values) > 0.7 * (hi - lo), name
    for stats in draws:
        assert PIXEL_NOISE_K[0] <= stats.pixel_noise_best_K <= PIXEL_NOISE_K[1]
        ratio = stats.pixel_noise_acceptable_K / stats.pixel_noise_best_K
        assert ACCEPTABLE_NOISE_RATIO[0] <= ratio <= ACCEPTABLE_NOISE_RATIO[1]
        detail = ratios(stats, "cloud_weights")
        assert detail[0] == 1.0 and np.isclose(detail[1], detail[2]) and CLOUD_DETAIL[0] <= detail[1] <= CLOUD_DETAIL[1]
    assert 0 < sum(s.swath_width_km is None for s in draws) < len(draws) / 2
    drawn = {n for names, _, _ in RANDOM_FACTORS.values() for n in names} | set(RANDOM_VALUES)
    drawn |= {"pixel_noise_best_K", "pixel_noise_acceptable_K", "cloud_weights"}
    assert drawn == {f.name for f in fields(GeneratorStatistics)}  # nothing left fixed


def test_random_statistics_generate_plausible_data(grid):
    stats = replace(random_statistics(np.random.default_rng(1)), swath_width_km=None)
    daily, monthly = synthetic_sst(*grid, n_months=1, seed=7, cloud_cover=0.6, statistics=stats)
    for values in (daily.sst.values, monthly.sst.values):
        finite = values[np.isfinite(values)]
        assert finite.min() >= FREEZING_K and finite.max() <= 310.0
    ocean = _ocean(monthly)
    assert 0.4 < np.isnan(daily.sst.values[:, ocean]).mean() < 0.8


def test_noisier_statistics_give_a_larger_observation_minus_truth_spread(grid, month):
    noisy = replace(GeneratorStatistics(), pixel_noise_best_K=0.4, pixel_noise_acceptable_K=0.6,
                    regional_error_K=0.3)
    spreads = []
    for daily, monthly in (month, synthetic_sst(*grid, n_months=1, seed=7, cloud_cover=0.6, statistics=noisy)):
        good = daily.quality_level.values >= 4
        spreads.append(np.std((daily.sst.values - monthly.sst.values[0])[good]))
    # The truth and the clouds are the same; only the retrieval noise differs.
    assert spreads[1] > np.hypot(spreads[0], 0.4)


def test_unflagged_bad_retrievals_stay_at_quality_4_when_asked(grid):
    flagged = replace(GeneratorStatistics(), undetected_share=0.4)
    runs = [synthetic_sst(*grid, n_months=1, seed=7, statistics=replace(flagged, unflagged_share=share))
            for share in (0.0, 0.5)]
    (daily_f, monthly), (daily_u, _) = runs
    q_f, q_u = daily_f.quality_level.values, daily_u.quality_level.values
    bad = (q_f >= 1) & (q_f <= 3)
    unflagged = bad & (q_u == 4)
    np.testing.assert_array_equal(q_u[~bad], q_f[~bad])
    assert 0.4 < unflagged.sum() / bad.sum() < 0.6
    assert ((q_u[bad] == 4) | (q_u[bad] == q_f[bad])).all()
    np.testing.assert_array_equal(daily_u.sst.values[bad], daily_f.sst.values[bad])  # the same cold values
    departure = daily_u.sst.values - monthly.sst.values[0]
    good = (q_u >= 4) & ~unflagged
    assert departure[unflagged].mean() < departure[good].mean() - 0.5


def test_random_ocean_region_can_have_non_square_cells():
    for factor in (1.5, 1 / 1.4):
        lat, lon, res = random_ocean_region(np.random.default_rng(4), lon_factor=factor)
        np.testing.assert_allclose(np.diff(lat), res)
        np.testing.assert_allclose(np.diff(lon), res * factor)
        assert 64 <= lon.size <= 128
    square = random_ocean_region(np.random.default_rng(4))
    again = random_ocean_region(np.random.default_rng(4), lon_factor=1.0)
    for a, b in zip(square, again):
        np.testing.assert_array_equal(a, b)
