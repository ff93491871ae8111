"""Withholding observations with the data's own cloud shapes, and how far the withheld mean is from the month's."""

import numpy as np

from sstfill.data.withhold import (
    MIN_HIDDEN_DAYS,
    day_variogram,
    hide_days,
    hide_unseen_elsewhere,
    mean_errors,
    withhold,
)


def test_never_observed_patches_are_moved_and_every_day_hidden_there():
    rng = np.random.default_rng(0)
    slots = np.full((31, 40, 40), 290.0, np.float32)
    slots[:, 5:12, 5:15] = np.nan  # a patch never observed this month
    ocean = np.ones((40, 40), bool)
    unseen_before = ~np.isfinite(slots).any(axis=0)
    hidden = hide_unseen_elsewhere(slots.copy(), ocean, rng, periodic_x=False)
    unseen_after = ~np.isfinite(hidden).any(axis=0)
    assert unseen_after[unseen_before].all(), "what was never seen stays unseen"
    moved = unseen_after & ~unseen_before
    assert 0 < moved.sum() <= unseen_before.sum(), "a patch no larger than the real one is hidden elsewhere"
    assert np.isfinite(hidden[:, ~unseen_after]).all(), "nothing else is touched"


def test_a_month_seen_everywhere_has_no_patch_to_move():
    slots = np.full((31, 8, 8), 290.0, np.float32)
    assert hide_unseen_elsewhere(slots, np.ones((8, 8), bool), np.random.default_rng(0), periodic_x=True) is slots


def test_the_withheld_mean_and_its_pixels():
    rng = np.random.default_rng(1)
    days, size = 31, 32
    cloud = rng.random((days, size, size)) < 0.5
    slots = np.where(cloud, np.nan, 290 + rng.normal(0, 0.3, (days, size, size))).astype(np.float32)
    ocean = np.ones((size, size), bool)
    thinned = slots.copy()
    held = withhold(thinned, ocean, rng, days_in_month=days, periodic_x=False)
    assert held.slots is thinned, "the month is thinned in place"
    hidden = np.isfinite(slots) & ~np.isfinite(held.slots)
    assert not (np.isfinite(held.slots) & ~np.isfinite(slots)).any(), "nothing is added"
    assert hidden.any() and np.isfinite(held.slots).any()
    scored = held.scored
    assert (hidden.sum(axis=0)[scored] >= MIN_HIDDEN_DAYS).all()
    y, x = np.argwhere(scored)[0]
    assert np.isclose(held.reference[y, x], np.mean(slots[hidden[:, y, x], y, x]), atol=1e-4)
    assert np.isnan(held.reference[~scored]).all() and (held.reference_var[scored] > 0).all()
    assert np.isfinite(held.shared_var[scored]).all()
    left = np.zeros((size, size), bool)
    left[:, :10] = True
    only_left = withhold(slots.copy(), ocean, np.random.default_rng(1), days_in_month=days, periodic_x=False,
                         where=left)
    assert only_left.scored.any() and not only_left.scored[:, 10:].any(), "pixels are scored only where asked"


def test_hidden_days_take_the_donors_shapes_as_observed_not_as_already_hidden():
    rng = np.random.default_rng(3)
    slots = np.where(rng.random((12, 20, 20)) < 0.5, np.nan, 290.0).astype(np.float32)
    seen = np.isfinite(slots)
    hidden = hide_days(slots.copy(), np.random.default_rng(4), fraction=1.0)
    replay, days = np.random.default_rng(4), np.arange(12)
    for day in days:  # the same draws as hide_days: one coin, then one donor, per day
        replay.random()
        donor = replay.choice(days[days != day])
        assert np.array_equal(np.isfinite(hidden[day]), seen[day] & seen[donor])


def test_independent_days_give_the_textbook_variance_of_a_mean():
    rng = np.random.default_rng(2)
    days, size, noise = 31, 60, 0.4
    slots = (290 + rng.normal(0, noise, (days, size, size))).astype(np.float32)
    subset = np.zeros_like(slots, bool)
    subset[:8] = True
    pixels = np.ones((size, size), bool)
    variance = mean_errors(slots[:, pixels], [subset[:, pixels]], day_variogram(slots), chunk=1000)[0, 0]
    assert np.isclose(variance.mean(), noise**2 / 8, rtol=0.1)


def test_a_warming_month_gives_the_exact_offset_of_its_first_days():
    # A linear trend, no noise: the mean of days 1-8 is off the month's mean by a known amount,
    # which independent-day formulas would miss entirely.
    days, rate = 30, 0.05
    trend = 290 + rate * np.arange(days, dtype=np.float32)
    slots = np.broadcast_to(trend[:, None, None], (days, 10, 10)).copy()
    subset = np.zeros_like(slots, bool)
    subset[:8] = True
    later = np.zeros_like(slots, bool)
    later[20:] = True
    pixels = np.ones((10, 10), bool)
    errors = mean_errors(slots[:, pixels], [subset[:, pixels], later[:, pixels]], day_variogram(slots))
    offset, later_offset = trend[:8].mean() - trend.mean(), trend[20:].mean() - trend.mean()
    assert np.allclose(errors[0, 0], offset**2, rtol=0.02)
    assert np.allclose(errors[0, 1], offset * later_offset, rtol=0.02), "early and late days err oppositely"
