"""Hiding observed pixel-days with the data's own cloud shapes.

Self-supervised training (sstfill.prepare) learns to recover a well-observed monthly mean
from a thinned month. Reconstruction withholds observations the same way to measure, on the
user's own input, how far each estimator is from what was hidden (docs/model.md#step-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_HIDDEN_DAYS = 2
"""A pixel is scored on its withheld days only when at least this many were hidden, so that
their spread estimates how far their mean is from the month's."""


def hide_days(slots: np.ndarray, rng: np.random.Generator, fraction: float = 0.5) -> np.ndarray:
    """Hide more of a month, as clouds would: each day, with probability `fraction`, also loses
    every pixel that another day of the month (drawn at random) did not see (DINCAE's trick:
    real cloud shapes from the data itself). In place (a month of a fine global grid is
    gigabytes): returns `slots`, changed; the donors' shapes are those before any hiding."""
    pixels = slots[0].size
    seen = [np.packbits(np.isfinite(day)) for day in slots]  # one bit per pixel-day, to keep the shapes
    days = np.flatnonzero([bits.any() for bits in seen])
    if days.size < 2:
        return slots
    for day in days:
        if rng.random() < fraction:
            donor = rng.choice(days[days != day])
            donor_seen = np.unpackbits(seen[donor], count=pixels).view(bool).reshape(slots.shape[1:])
            slots[day][~donor_seen] = np.nan
    return slots


def hide_unseen_elsewhere(slots: np.ndarray, ocean: np.ndarray, rng: np.random.Generator,
                          *, periodic_x: bool) -> np.ndarray:
    """Hide every day of the pixels under the month's never-observed patches moved to another
    place (a random shift of a quarter to three quarters of the grid): seen pixels become
    never-observed ones, in gaps of the shapes and sizes this input really has. In place (a
    month of a fine global grid is gigabytes): returns `slots`, changed."""
    unseen = ocean.copy()
    for day in slots:  # a day at a time: a month's booleans at once would be 800 MB at 0.05 degree
        unseen &= ~np.isfinite(day)
    if not unseen.any():
        return slots
    height, width = unseen.shape
    dy = int(rng.integers(height // 4, max(3 * height // 4, height // 4 + 1)))
    dx = int(rng.integers(width // 4, max(3 * width // 4, width // 4 + 1)))
    moved = np.roll(unseen, (dy, dx), axis=(0, 1))
    if not periodic_x:  # a shift that wraps in x would join the grid's two edges
        moved[:, :dx] = False
    moved[:dy] = False
    slots[:, moved] = np.nan
    return slots


@dataclass
class Withheld:
    """A month with observations withheld, and what was withheld.

    slots: the thinned month; reference: the mean of each pixel's withheld days (NaN where
    fewer than MIN_HIDDEN_DAYS were withheld); reference_var: how far, in variance, that
    mean is expected to be from the month's mean; shared_var: the covariance of that
    departure with the kept days' own (0 where no day was kept), the part of an error that
    kept and withheld days share and a comparison between them cannot show (mean_errors).
    """

    slots: np.ndarray
    reference: np.ndarray
    reference_var: np.ndarray
    shared_var: np.ndarray

    @property
    def scored(self) -> np.ndarray:
        return np.isfinite(self.reference)


def withhold(slots: np.ndarray, ocean: np.ndarray, rng: np.random.Generator, *, days_in_month: int, periodic_x: bool,
             fraction: float = 0.7, where: np.ndarray | None = None) -> Withheld:
    """Withhold observations of a month (max_days, H, W): days thinned with other days' cloud
    shapes (hide_days), and whole months at pixels under moved never-observed patches.
    Only pixels `where` (H, W bool; default all) are scored. `slots` is thinned in place and
    becomes Withheld.slots: memory beyond it is the scored region's days and a few (H, W) maps."""
    region = ocean if where is None else ocean & where
    variogram = day_variogram(slots[:days_in_month])  # of the month as observed, before anything is hidden
    observed = slots[:, region]  # (D, P): the values the scores compare with, before hiding
    thinned = hide_unseen_elsewhere(hide_days(slots, rng, fraction), ocean, rng, periodic_x=periodic_x)
    kept = np.stack([np.isfinite(day[region]) for day in thinned])  # (D, P), a day at a time
    mean, n_hidden = withheld_days_mean(observed, kept)
    in_region = n_hidden >= MIN_HIDDEN_DAYS
    values, kept = observed[:days_in_month, in_region], kept[:days_in_month, in_region]
    del observed  # only the scored pixels' days are needed from here on
    scored = np.zeros(ocean.shape, bool)
    scored[region] = in_region
    reference = np.full(ocean.shape, np.nan, np.float32)
    reference[scored] = mean[in_region]
    reference_var = np.full(ocean.shape, np.nan, np.float32)
    shared_var = np.full(ocean.shape, np.nan, np.float32)
    if scored.any():
        errors = mean_errors(values, [np.isfinite(values) & ~kept, kept], variogram)
        reference_var[scored] = errors[0, 0]
        shared_var[scored] = np.where(kept.any(axis=0), errors[0, 1], 0.0)
    return Withheld(slots=thinned, reference=reference, reference_var=reference_var, shared_var=shared_var)


def withheld_days_mean(slots: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the mean, float64, of each pixel's valid days of `slots` (D, ...) that the thinning did not
    keep (`kept`, bool like slots), NaN where none; how many), a day at a time so that memory stays two maps."""
    total = np.zeros(slots.shape[1:], np.float64)
    count = np.zeros(slots.shape[1:], np.int32)
    for day, kept_day in zip(slots, kept, strict=True):
        hidden = np.isfinite(day) & ~kept_day
        total[hidden] += day[hidden]
        count += hidden
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def mean_errors(values: np.ndarray, subsets: list[np.ndarray], variogram: tuple[np.ndarray, float, float],
                chunk: int = 65_536) -> np.ndarray:
    """(S, S, P) float32: for each of P pixels, the expected products of the departures of the
    means of its valid `values` (D, P) on each of the S `subsets` of days (each (D, P) bool)
    from the true mean over all D days: variances on the diagonal.

    The days are not independent (a warm spell spans several), so this comes from the
    month's temporal variogram (day_variogram, pooled over the ocean) scaled at each pixel by
    its own day-to-day variance: with weights a = 1/n on a subset's n days minus 1/D on every
    day, the field's part of a product is -a' G b (G the variogram between days), and
    retrieval noise (the variogram's jump at lag 0) adds noise / n to a variance. Pixels go
    `chunk` at a time, so memory stays small however many there are.
    """
    field_gamma, noise, pooled_var = variogram
    days, count = values.shape
    gamma = field_gamma[np.abs(np.arange(days)[:, None] - np.arange(days)[None, :])]  # (D, D)
    out = np.empty((len(subsets), len(subsets), count), np.float32)
    for start in range(0, count, chunk):
        part = slice(start, start + chunk)
        shares = []
        for subset in subsets:
            chosen = subset[:, part].astype(np.float64)
            shares.append(chosen / np.maximum(chosen.sum(axis=0), 1.0))
        scale = day_variance(values[:, part]) / (pooled_var or 1.0)
        for i, a in enumerate(shares):
            for j, b in enumerate(shares):
                field = -np.einsum("dp,dp->p", a - 1.0 / days, gamma @ (b - 1.0 / days))
                out[i, j, part] = (field + noise * np.einsum("dp,dp->p", a, b)) * scale
    return out


VARIOGRAM_PIXELS = 250_000
"""The variogram is pooled over at most about this many pixels (a regular subsample of larger grids)."""


def day_variance(values: np.ndarray) -> np.ndarray:
    """The sample variance over days (axis 0) of each pixel's valid values; 0 below two values."""
    values = values.astype(np.float64)
    valid = np.isfinite(values)
    count = valid.sum(axis=0)
    mean = np.where(valid, values, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(valid, (values - mean) ** 2, 0.0).sum(axis=0) / np.maximum(count - 1, 1)


def day_variogram(slots: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(the field's variogram by lag in days, 0 .. D-1; the retrieval-noise variance; the mean
    day-to-day variance of the same pixels), pooled over the pixels seen on both days of a
    pair (a regular subsample of about VARIOGRAM_PIXELS on large grids). Half the mean
    squared difference at lag 1 and 2, extrapolated linearly to lag 0, is taken as noise:
    the field itself varies continuously from day to day, noise does not."""
    days = slots.shape[0]
    stride = max(1, int(np.sqrt(slots[0].size / VARIOGRAM_PIXELS)))
    slots = slots[:, ::stride, ::stride]
    seen_twice = np.isfinite(slots).sum(axis=0) >= 2
    pooled_var = float(np.mean(day_variance(slots[:, seen_twice]))) if seen_twice.any() else 0.0
    gamma = np.zeros(days)
    for lag in range(1, days):
        diff = slots[lag:] - slots[:-lag]
        finite = np.isfinite(diff)
        if finite.any():
            gamma[lag] = 0.5 * float(np.mean(np.square(diff[finite], dtype=np.float64)))
        else:
            gamma[lag] = gamma[lag - 1]
    noise = float(np.clip(2 * gamma[1] - gamma[2], 0.0, gamma[1])) if days > 2 else 0.0
    field = np.where(np.arange(days) > 0, np.maximum(gamma - noise, 0.0), 0.0)
    return field, noise, pooled_var
