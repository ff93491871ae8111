"""DINEOF (sstfill.baselines.dineof): known behaviour on fields built to have it.

Run with ``-o log_cli=true --log-cli-level=INFO`` to see the RMSE on the synthetic month.
"""

import logging

import numpy as np
import pytest

from sstfill.baselines import dineof as dineof_module
from sstfill.baselines.dineof import DineofTooLarge, dineof, dineof_monthly
from sstfill.data.baseline import composite
from sstfill.testing import make_grid, synthetic_sst

log = logging.getLogger(__name__)


def rank2_field(seed=0, shape=(31, 24, 32)):
    """A domain-wide seasonal swing plus one moving pattern: exactly rank 2 in (space, time).

    The uniform mode matters: DINEOF removes one mean from all values, and the matrix of a
    field stays rank 2 after that only when the constant lies in the span of its modes.
    """
    rng = np.random.default_rng(seed)
    n_days, height, width = shape
    t = np.arange(n_days)
    pattern = rng.normal(size=(height, width))
    field = (290.0 + 1.5 * np.sin(2 * np.pi * t / n_days)[:, None, None]
             + pattern * np.cos(2 * np.pi * t / 11)[:, None, None])
    ocean = np.ones((height, width), dtype=bool)
    ocean[:3, :5] = False
    field[:, ~ocean] = np.nan
    return field, ocean, rng


def with_gaps(field, rng, fraction):
    observed = field.copy()
    observed[rng.random(field.shape) < fraction] = np.nan
    return observed


def test_rank2_field_with_half_missing_is_recovered_with_two_modes():
    truth, ocean, rng = rank2_field()
    result = dineof(with_gaps(truth, rng, 0.5), ocean)
    assert result.modes == 2
    error = (result.filled - truth)[:, ocean]
    assert np.sqrt(np.mean(error**2)) < 1e-2 * np.std(truth[:, ocean])
    assert result.converged and len(result.cv_rmse) >= 2 and result.cv_points > 0


def test_noisy_field_picks_few_modes_and_beats_the_composite():
    truth, ocean, rng = rank2_field(seed=1)
    observed = with_gaps(truth + rng.normal(0, 0.3, size=truth.shape), rng, 0.6)
    monthly, result = dineof_monthly(observed, ocean)
    assert 1 <= result.modes <= 4
    target = truth.mean(axis=0)[ocean]
    naive, count = composite(observed)
    assert count[ocean].min() > 0  # a fair comparison: the composite has a value everywhere
    rmse_dineof = np.sqrt(np.mean((monthly[ocean] - target) ** 2))
    rmse_naive = np.sqrt(np.mean((naive[ocean] - target) ** 2))
    assert rmse_dineof < 0.7 * rmse_naive


def test_valid_entries_untouched_land_nan_and_dtype_kept():
    truth, ocean, rng = rank2_field(seed=2)
    observed = with_gaps(truth, rng, 0.4).astype(np.float32)
    observed[:, ~ocean] = 280.0  # values on land are ignored, and land comes back NaN
    result = dineof(observed, ocean)
    valid = np.isfinite(observed) & ocean
    assert result.filled.dtype == np.float32
    np.testing.assert_array_equal(result.filled[valid], observed[valid])
    assert np.isnan(result.filled[:, ~ocean]).all()
    assert np.isfinite(result.filled[:, ocean]).all()


def test_reproducible_with_a_seed():
    truth, ocean, rng = rank2_field(seed=3)
    observed = with_gaps(truth + rng.normal(0, 0.3, size=truth.shape), rng, 0.5)
    a, b = dineof(observed, ocean, seed=7), dineof(observed, ocean, seed=7)
    np.testing.assert_array_equal(a.filled, b.filled)
    assert a.cv_rmse == b.cv_rmse and a.modes == b.modes
    assert dineof(observed, ocean, seed=8).cv_rmse != a.cv_rmse  # other cross-validation points


def test_empty_days_dropped_and_unseen_pixels_filled_or_left_empty():
    truth, ocean, rng = rank2_field(seed=4)
    observed = with_gaps(truth, rng, 0.3)
    observed[5] = np.nan  # a day without any observation
    observed[:, 10, 10] = np.nan  # a pixel never observed
    monthly, result = dineof_monthly(observed, ocean)
    assert result.dropped_days == (5,) and result.unseen_pixels == 1 and result.matrix_shape[1] == 30
    assert np.isnan(result.filled[5]).all()
    assert np.isfinite(result.filled[:5, 10, 10]).all() and np.isfinite(monthly[ocean]).all()
    kept = [d for d in range(31) if d != 5]
    np.testing.assert_allclose(monthly[ocean], result.filled[kept][:, ocean].mean(axis=0), rtol=1e-12)
    # never observed: its neighbours' reconstruction, interpolated, is close to the truth
    assert abs(monthly[10, 10] - truth[kept, 10, 10].mean()) < 1.0
    _, bare = dineof_monthly(observed, ocean, fill_unseen=False)
    assert np.isnan(bare.filled[:, 10, 10]).all()


def test_svds_path_matches_the_gram_path(monkeypatch):
    truth, ocean, rng = rank2_field(seed=5, shape=(20, 12, 16))
    observed = with_gaps(truth, rng, 0.4)
    gram = dineof(observed, ocean, modes=2, tol=1e-6)
    monkeypatch.setattr(dineof_module, "GRAM_MAX", 4)
    arpack = dineof(observed, ocean, modes=2, tol=1e-6)
    np.testing.assert_allclose(arpack.filled, gram.filled, atol=1e-6, equal_nan=True)


def test_refuses_too_large_and_nothing_to_work_from():
    truth, ocean, _rng = rank2_field(seed=6)
    with pytest.raises(DineofTooLarge, match=r"pixels x 31 days .* exceeds max_entries"):
        dineof(truth, ocean, max_entries=1000)
    with pytest.raises(ValueError, match="found none"):
        dineof(np.full_like(truth, np.nan), ocean)
    with pytest.raises(ValueError, match="expected days"):
        dineof(truth[0], ocean)


def test_synthetic_month_from_sstfill_generator():
    lat, lon = make_grid(40.0, 52.0, -60.0, -44.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, n_months=1, seed=5, cloud_cover=0.6)
    sst = daily["sst"].where(daily["quality_level"] >= 4).values.astype(np.float32)
    reference = truth["sst"].values[0]
    ocean = np.isfinite(reference)
    monthly, result = dineof_monthly(sst, ocean)
    rmse = float(np.sqrt(np.mean((monthly[ocean] - reference[ocean]) ** 2)))
    naive, count = composite(sst)
    seen = ocean & (count > 0)
    naive_rmse = float(np.sqrt(np.mean((naive[seen] - reference[seen]) ** 2)))
    log.info("DINEOF on a synthetic %dx%d month: %d modes, monthly RMSE %.3f K (mean of valid days %.3f K where seen), "
             "%.2f s", *ocean.shape, result.modes, rmse, naive_rmse, result.seconds)
    assert np.isfinite(monthly[ocean]).all()
    assert 0.01 < rmse < 1.5
