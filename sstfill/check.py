"""reconstruct's check on withheld observations: run the candidates on a thinned input and fit the rule.

The model (on a share of the tiles), a low-rank DINEOF reconstruction and the filled
composite are run on the input with observations withheld (sstfill.data.withhold) and
scored against what was withheld (sstfill.data.calibration): docs/model.md#step-9.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from sstfill.baselines.dineof import dineof_monthly
from sstfill.checkpoint import LoadedModel
from sstfill.data.baseline import composite, fill_gaps, filled_composite
from sstfill.data.calibration import ChoiceRule, WithheldErrors
from sstfill.data.months import Month, MonthFields
from sstfill.data.predict import predict_window, read_month
from sstfill.data.tiling import Tile, extract, tile_mask
from sstfill.data.withhold import Withheld, withhold
from sstfill.io.daily import DailyInput

log = logging.getLogger(__name__)

CHECK_TILE_SHARE = 1 / 3
"""The share of the ocean tiles that the model is run on with observations withheld..."""

CHECK_MIN_PIXELS = 40_000
"""...but at least enough tiles to cover this many pixels (all of a small domain): each month is
checked on its own, and a small one checked on a third of it has too few withheld pixels."""

POOLED_MONTHS = 3
"""A month's rule is fitted on the withheld errors of this many months centred on it: one month
alone holds too few withheld pixels in some classes of a small domain."""

CHECK_MAX_PIXELS = 2_000_000
"""...and no more than this many (a third of a global 0.05 degree grid's tiles is 3,800 tiles,
16 million pixels: far more than a rule needs, and the check's time and memory grow with them)."""

MIN_CHECK_PIXELS = 500
"""Fewer withheld pixels than this in all leave the model's output and sigma as they are."""

WIDE_FILL = 2.0
"""The wide_fill candidate fills never-observed pixels from this many times the baseline's sigma."""

LOW_RANK_MAX_ENTRIES = 4_000_000
"""The low-rank (DINEOF) candidate runs on months of up to this many ocean pixels x days."""


def check_tiles(tiles: list[Tile], entropy: Sequence[int], *, for_adapt: bool = False) -> list[Tile]:
    """The tiles that the check runs the model on (check_tile_count), drawn from
    `entropy`: reconstruct draws anew for each month (from the seed and the month), so that a long
    input is checked all over and a month's draw does not depend on the other months of the run."""
    rng = np.random.default_rng([*entropy, 0])
    count = check_tile_count(tiles, for_adapt=for_adapt)
    return [tiles[i] for i in np.sort(rng.choice(len(tiles), size=count, replace=False))]


def check_tile_count(tiles: list[Tile], *, for_adapt: bool = False) -> int:
    """How many tiles the check runs the model on (CHECK_TILE_SHARE, CHECK_MIN_PIXELS, CHECK_MAX_PIXELS);
    for_adapt: without the minimum, since adaptation trains on the other tiles and must keep some."""
    if not tiles:
        return 0
    pixels = tiles[0].height * tiles[0].width
    enough = 0 if for_adapt else math.ceil(CHECK_MIN_PIXELS / pixels)
    return min(len(tiles), max(1, round(CHECK_TILE_SHARE * len(tiles)), enough), CHECK_MAX_PIXELS // pixels)


def check_month(daily: DailyInput, months: list[Month], loaded: LoadedModel, land: np.ndarray,
                window: tuple[range, int], tiles: list[Tile], *, device: torch.device, batch_size: int | None,
                precision: str, entropy: Sequence[int], candidates: tuple[str, ...],
                month_to_thin: Callable[[int], MonthFields] | None = None,
                advance: Callable[[int], None] = lambda n: None) -> WithheldErrors:
    """The candidates' errors on observations withheld from one month, months[window[0][window[1]]]:
    its window thinned with draws from `entropy`, the model run on `tiles` (check_tiles), each of
    `candidates` (check_candidates) scored. month_to_thin(i): month i as read (read_month), whose days
    the check takes over, to thin in place (default: read anew), so that a month read for its own map
    is not read twice."""
    ocean = ~land
    months_in, place = window
    rng = np.random.default_rng([*entropy, 1])
    sigma_px = loaded.contract.fill_sigma_px(daily.grid_steps_deg)
    errors = WithheldErrors(candidates)
    checked = tile_mask(land.shape, tiles, periodic_x=daily.periodic_x)
    read = month_to_thin or (lambda i: read_month(daily, months[i], ocean, loaded))
    thinned = {i: _thinned_month(read(i), months[i], ocean, rng, sigma_px, checked, tiles, daily.periodic_x,
                                 keep_days=needs_days(candidates)) for i in months_in}
    tile_days = {t: np.stack([thinned[i][2].pop(t) for i in months_in]) for t in tiles}  # (M, D, th, tw) each
    fields = [thinned[i][0] for i in months_in]
    month_fields, held, _ = thinned[months_in[place]]
    del thinned
    sst, sigma = predict_window(loaded, fields, land, [months[i] for i in months_in], tiles,
                                periodic_x=daily.periodic_x, device=device, batch_size=batch_size, precision=precision,
                                advance=advance, tile_days=tile_days)
    del fields, tile_days
    estimates = candidate_maps(errors.candidates, sst[place], month_fields, ocean, daily.periodic_x, sigma_px)
    errors.add(estimates, sigma[place], held, month_fields.nobs)
    return errors


def pooled_months(index: int, n_months: int) -> range:
    """The months whose withheld errors fit month `index`'s rule: it and its neighbours (POOLED_MONTHS),
    whichever months a run writes, so the rule does not depend on them."""
    half = POOLED_MONTHS // 2
    return range(max(index - half, 0), min(index + half + 1, n_months))


class MonthlyCheck:
    """reconstruct's check, month by month: each month's rule is fitted on the withheld errors of the
    months around it (pooled_months), each month checked once and only while a rule needs it. The
    draws come from the seed and the month alone, so a month's rule is the same in any run that
    writes it, whichever other months that run writes."""

    def __init__(self, daily: DailyInput, months: list[Month], loaded: LoadedModel, land: np.ndarray,
                 windows: list[tuple[range, int]], tiles: list[Tile], *, seed: int, same_tiles: bool,
                 device: torch.device, batch_size: int | None, precision: str):
        self.daily, self.months, self.loaded, self.land, self.windows = daily, months, loaded, land, windows
        self.tiles, self.seed, self.same_tiles = tiles, seed, same_tiles
        self.device, self.batch_size, self.precision = device, batch_size, precision
        self.candidates = check_candidates(~land, loaded)
        self.errors: dict[int, WithheldErrors] = {}

    def months_to_check(self, selected: Sequence[int]) -> list[int]:
        """The months checked for a run that writes the `selected` months, in time order."""
        return sorted({j for i in selected for j in pooled_months(i, len(self.months))})

    def tiles_to_run(self, selected: Sequence[int]) -> int:
        """How many tiles the check runs the model on, for a run that writes the `selected` months."""
        return len(self.months_to_check(selected)) * check_tile_count(self.tiles, for_adapt=self.same_tiles)

    def check(self, index: int, month_to_thin: Callable[[int], MonthFields] | None = None,
              advance: Callable[[int], None] = lambda n: None) -> None:
        """Withhold observations of month `index` and keep the candidates' errors on them (check_month)."""
        entropy = [self.seed, self.months[index].year, self.months[index].month]
        tiles = check_tiles(self.tiles, [self.seed] if self.same_tiles else entropy, for_adapt=self.same_tiles)
        self.errors[index] = check_month(self.daily, self.months, self.loaded, self.land, self.windows[index], tiles,
                                         device=self.device, batch_size=self.batch_size, precision=self.precision,
                                         entropy=entropy, candidates=self.candidates, month_to_thin=month_to_thin,
                                         advance=advance)

    def rule(self, index: int) -> ChoiceRule | None:
        """Month `index`'s rule, or None when too few pixels could be withheld around it; its pooled months
        must have been checked. The errors of earlier months, which no later rule needs, are let go."""
        needed = pooled_months(index, len(self.months))
        self.errors = {j: errors for j, errors in self.errors.items() if j >= needed.start}
        return fit_rule([self.errors[j] for j in needed], self.months[index].label)


def fit_rule(parts: list[WithheldErrors], label: str) -> ChoiceRule | None:
    """The rule for month `label` fitted on its pooled months' withheld errors (sstfill.data.calibration),
    or None when too few pixels could be withheld."""
    errors = WithheldErrors.pooled(parts)
    if errors.pixels < MIN_CHECK_PIXELS:
        log.warning("%s: only %d pixels could be checked on withheld observations (at least %d are needed): its map "
                    "is the model's, with its own uncalibrated sigma", label, errors.pixels, MIN_CHECK_PIXELS)
        return None
    rule = errors.rule()
    log.info("%s on withheld observations, by valid days: %s", label, rule.describe())
    return rule


def candidate_maps(names: Sequence[str], model_sst: np.ndarray, fields: MonthFields, ocean: np.ndarray,
                   periodic_x: bool, sigma_px: tuple[float, float],
                   rule: ChoiceRule | None = None) -> dict[str, np.ndarray]:
    """Each candidate's monthly map (H, W) for one month; with a rule, only those it chooses.

    composite: the model's baseline, the composite gap-filled from sigma_px; wide_fill: the
    same composite filled from WIDE_FILL times sigma_px, which differs only where no day was
    seen (a month's never-observed patches may span more than the grid rule assumes)."""
    maps = {"model": model_sst, "composite": fields.baseline}
    if "wide_fill" in names and (rule is None or rule.uses("wide_fill")):
        seen = np.where(fields.nobs > 0, fields.baseline, np.nan)
        maps["wide_fill"] = fill_gaps(seen, ocean, sigma_px=tuple(WIDE_FILL * s for s in sigma_px),
                                      periodic_x=periodic_x)
    if "low_rank" in names and (rule is None or rule.uses("low_rank")):
        try:
            maps["low_rank"], _ = dineof_monthly(fields.slots, ocean, periodic_x=periodic_x)
        except ValueError:  # no valid ocean value left: the candidate has nothing to work from
            maps["low_rank"] = np.full(ocean.shape, np.nan, np.float32)
    return maps


def _thinned_month(full: MonthFields, month: Month, ocean: np.ndarray, rng: np.random.Generator,
                   sigma_px: tuple[float, float], checked: np.ndarray, tiles: list[Tile], periodic_x: bool, *,
                   keep_days: bool) -> tuple[MonthFields, Withheld, dict[Tile, np.ndarray]]:
    """(the month with observations withheld, as MonthFields holding its days only with keep_days; the
    Withheld record, scored where `checked`; the thinned days of each of `tiles`, all the model needs).
    The month's days are thinned in place and, without keep_days, let go before its gaps are filled:
    a month at 0.05 degree is 3 GB, the days of the check's tiles a tenth of that."""
    days, own_baseline = full.slots, full.baseline
    full.slots = full.without_days().slots  # the days are the check's now: the caller's reference would hold them
    held = withhold(days, ocean, rng, days_in_month=month.days_in_month, periodic_x=periodic_x, where=checked)
    mean, nobs = composite(days)
    tile_days = {tile: extract(days, tile, periodic_x=periodic_x).copy() for tile in tiles}
    if not keep_days:
        days = held.slots = np.empty((0, *ocean.shape), np.float32)
    try:
        baseline = filled_composite(mean, ocean, sigma_px=sigma_px, periodic_x=periodic_x)
    except ValueError:  # everything withheld: keep the month's own baseline and score nothing in it
        nothing = np.full(ocean.shape, np.nan, np.float32)
        return (MonthFields(days, own_baseline, nobs),
                Withheld(slots=days, reference=nothing, reference_var=nothing, shared_var=nothing), tile_days)
    return MonthFields(slots=days, baseline=baseline, nobs=nobs), held, tile_days


def needs_days(candidates: Sequence[str]) -> bool:
    """Whether a candidate's map is made from a month's days (the low-rank one, in candidate_maps), not only
    from its baseline and counts: the month's days must then be kept until its maps are made."""
    return "low_rank" in candidates


def check_candidates(ocean: np.ndarray, loaded: LoadedModel) -> tuple[str, ...]:
    """The estimators the check scores: the low-rank one only on months small enough (LOW_RANK_MAX_ENTRIES)."""
    if _low_rank_affordable(ocean, loaded):
        return "model", "low_rank", "composite", "wide_fill"
    return "model", "composite", "wide_fill"


def _low_rank_affordable(ocean: np.ndarray, loaded: LoadedModel) -> bool:
    entries = int(ocean.sum()) * loaded.contract.max_days
    if entries > LOW_RANK_MAX_ENTRIES:
        log.info("the low-rank (DINEOF) candidate is left out: %d ocean pixels x %d days exceeds %d", int(ocean.sum()),
                 loaded.contract.max_days, LOW_RANK_MAX_ENTRIES)
        return False
    return True
