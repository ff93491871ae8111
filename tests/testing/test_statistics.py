"""The factory's statistics (sstfill.testing.statistics): the defaults reproduce the bundled sample, random draws
cover their documented ranges and give plausible data, and each statistic does what it names."""

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import xarray as xr

from sstfill.testing import FREEZING_K, GeneratorStatistics, make_grid, random_statistics, synthetic_sst
from sstfill.testing.statistics import (
    ACCEPTABLE_NOISE_RATIO,
    CLOUD_DETAIL,
    PIXEL_NOISE_K,
    RANDOM_FACTORS,
    RANDOM_VALUES,
)

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def test_default_statistics_reproduce_the_bundled_sample_exactly(grid, month):
    """The sample data were written by the factory before its statistics became an argument."""
    explicit = synthetic_sst(*grid, n_months=1, seed=7, cloud_cover=0.6, statistics=GeneratorStatistics())
    for ours, theirs in zip(explicit, month, strict=True):
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
    ocean = np.isfinite(monthly.sst.values[0])
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
