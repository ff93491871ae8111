"""Stage 3: daily gappy SST -> gap-free monthly maps on the input grid, as CF NetCDF.

The domain is cut into overlapping tiles of the size the model was trained on, and the
tile predictions are cross-faded, so any grid size works, a global grid wraps in
longitude, and memory is bounded by one month window of the input plus one batch of tiles.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from sstfill.adapt import adapt_to_input
from sstfill.check import MonthlyCheck, candidate_maps, check_tiles, needs_days, pooled_months
from sstfill.checkpoint import LoadedModel, load_model
from sstfill.config import DEVICE, ReconstructConfig
from sstfill.data.months import (
    Month,
    MonthFields,
    centred_windows,
    group_months,
    incomplete_text,
    month_bounds,
    select_months,
)
from sstfill.data.predict import predict_window, read_month
from sstfill.data.tiling import ocean_tiles, tile_mask
from sstfill.device import resolve_device
from sstfill.errors import InputError
from sstfill.io.daily import DailyInput
from sstfill.io.land import land_file, resolve_land
from sstfill.io.output import atomic_output, check_output_path
from sstfill.io.read import open_daily
from sstfill.io.validate import check_valid_data
from sstfill.io.write import SELF_SUPERVISED_UNCERTAINTY, UNCALIBRATED, MonthlyWriter, OutputInfo, check_result
from sstfill.memory import check_fits
from sstfill.progress import progress

log = logging.getLogger(__name__)

SPACING_MARGIN = 1.5
"""A grid this many times finer or coarser than every grid seen in training gets a warning."""

def warn_if_unseen_spacing(loaded: LoadedModel, spacing_deg: float) -> None:
    """Say so when the input's grid spacing is outside those the model was trained on."""
    seen = loaded.contract.grid_spacing_deg
    if seen and spacing_deg and not min(seen) / SPACING_MARGIN <= spacing_deg <= max(seen) * SPACING_MARGIN:
        log.warning("the input's grid spacing, %g degree, is outside the %g to %g degree that model %s was trained on; "
                    "its accuracy there has not been measured: check it against a reference (sstfill evaluate) or "
                    "train a model on data at this spacing", spacing_deg, min(seen), max(seen), loaded.model_id)


def reconstruct(inputs: Sequence[str | os.PathLike] | str | os.PathLike, out: str | Path, *,
                model: str | Path | None = None, device: str = DEVICE, variable: str | None = None,
                min_quality: int | None = ReconstructConfig.min_quality, land_mask: str | Path | None = None,
                batch_size: int | None = ReconstructConfig.batch_size, precision: str = ReconstructConfig.precision,
                pack: bool = ReconstructConfig.pack,
                overwrite: bool = False, check: bool = ReconstructConfig.check, adapt: bool = ReconstructConfig.adapt,
                adapt_seconds: float = ReconstructConfig.adapt_seconds, seed: int = ReconstructConfig.seed,
                months: str | None = None, history: str = "sstfill reconstruct") -> Path:
    """Reconstruct gap-free monthly SST from daily files; write CF NetCDF to `out`.

    months: which months to write (sstfill.data.months.MONTHS_SPEC_HELP; None: all); the
    other months are still read where a model window needs them, and a month's map does not
    depend on which others the run writes (except with adapt, which learns from them).
    check: first withhold observations of each month and score the model, a low-rank
    (DINEOF) reconstruction and the filled composite on them, by valid-day class; in each
    class the model is kept unless another did significantly better, and sigma is scaled to
    the chosen one's error there (sstfill.data.calibration). False: the model's maps and
    sigma as they come. adapt: first fine-tune the model on the input itself for at most
    adapt_seconds (sstfill.adapt), never on the pixels the check scores. seed: which
    observations are withheld. batch_size: tiles per forward pass (None: chosen for the device);
    precision: fp32, or bf16/fp16 autocast (sstfill.config.PRECISIONS).
    Every check that can fail (inputs, output path, model, valid data, land) runs before
    the output is created; the output is written beside `out` and renamed when complete.
    """
    # Refuses numbers that cannot be meant, before any work.
    ReconstructConfig(min_quality=min_quality, batch_size=batch_size, precision=precision, pack=pack, check=check,
                      adapt=adapt, adapt_seconds=adapt_seconds, seed=seed)
    daily = open_daily(inputs, variable=variable, min_quality=min_quality)
    out = check_output_path(out, [*daily.sources, model, land_file(land_mask)], overwrite=overwrite)
    torch_device = resolve_device(device)
    loaded = load_model(model, torch_device)
    check_fits(daily.lat.size, daily.lon.size, loaded.contract.max_days * loaded.contract.months_per_window,
               check=check, where=daily.sources_text)
    warn_if_unseen_spacing(loaded, daily.grid_spacing_deg)
    spec, months = months, group_months(daily.sst["time"])  # every month of the input; `selected` are written
    selected = select_months(months, spec)
    chosen = [months[i] for i in selected]
    validity = check_valid_data(daily, chosen)
    incomplete = incomplete_text(chosen)
    if incomplete:
        log.warning("the input covers only part of %s: each such map estimates the whole month's mean from the days "
                    "given, as if the others were cloudy (its time bounds still span the month)", incomplete)
    land, land_source = resolve_land(daily, land_mask)
    ocean = ~land
    if not (ocean & validity.observed).any():
        raise InputError(
            f"expected valid SST over the ocean in {daily.sources_text}, found valid values only where the land mask "
            f"({land_source}) says land; check that the land mask matches the input (1 = land) or omit --land-mask"
        )
    starts, ends = month_bounds(chosen, daily.calendar, daily.sst["time"].values)
    log.info("reconstructing %d month(s) on a %dx%d grid%s with model %s; land from %s", len(chosen), daily.lat.size,
             daily.lon.size, " (global, longitude wraps)" if daily.periodic_x else "", loaded.model_id, land_source)
    windows = centred_windows(len(months), loaded.contract.months_per_window)  # neighbours outside --months too
    tiles = ocean_tiles(land, loaded.contract.tile_size, periodic_x=daily.periodic_x)
    if adapt:
        # the check then scores the same tiles in every month, and adaptation must never train on them
        exclude = tile_mask(land.shape, check_tiles(tiles, [seed], for_adapt=True),
                              periodic_x=daily.periodic_x) if check else None
        loaded = adapt_to_input(daily, chosen, loaded, land, device=torch_device, budget_s=adapt_seconds, seed=seed,
                                exclude=exclude)
    info = OutputInfo(standard_name=daily.standard_name, calendar=daily.calendar, history=history,
                      model_id=loaded.model_id, sources=daily.sources, land_source=land_source, pack=pack,
                      training_mode=loaded.contract.training_mode)
    if loaded.contract.training_mode == "self-supervised":
        log.warning("model %s was trained self-supervised: %s", loaded.model_id, SELF_SUPERVISED_UNCERTAINTY)
    sigma_px = loaded.contract.fill_sigma_px(daily.grid_steps_deg)
    checks = MonthlyCheck(daily, months, loaded, land, windows, tiles, seed=seed, same_tiles=adapt,
                          device=torch_device, batch_size=batch_size, precision=precision) if check else None
    calibration = []
    with atomic_output(out, overwrite=overwrite) as tmp:
        writer = MonthlyWriter(tmp, daily.lat, daily.lon, starts, ends, info)
        try:
            written = {i: index for index, i in enumerate(selected)}
            checked = checks.months_to_check(selected) if checks else []
            keep_days = checks is not None and needs_days(checks.candidates)
            cache = MonthCache(daily, months, ocean, loaded, {i: windows[i][0] for i in selected}, keep_days)
            predicted: dict[int, tuple[np.ndarray, np.ndarray, MonthFields]] = {}  # maps waiting for their rule
            work = len(chosen) * len(tiles) + (checks.tiles_to_run(selected) if checks else 0)
            with progress(work, "reconstructing (tiles)") as advance:
                # month by month: a month's maps are made before the check thins its days, and written once
                # the months their rule pools are checked
                for step in sorted({*selected, *checked}):
                    if step in written:
                        window, place = windows[step]
                        fields = cache.window(window)
                        sst, uncertainty = predict_window(loaded, fields, land, [months[j] for j in window], tiles,
                                                          periodic_x=daily.periodic_x, device=torch_device,
                                                          batch_size=batch_size, precision=precision, advance=advance)
                        kept = fields[place] if keep_days else fields[place].without_days()
                        predicted[step] = sst[place], uncertainty[place], kept
                        del fields
                    if checks and step in checked:
                        checks.check(step, partial(cache.to_thin, after=step), advance)
                    for i in [i for i in predicted if not checks or pooled_months(i, len(months))[-1] <= step]:
                        sst, uncertainty, month_fields = predicted.pop(i)
                        rule = checks.rule(i) if checks else None
                        if checks:
                            calibration.append(f"{months[i].label}: {rule.describe() if rule else UNCALIBRATED}")
                        if rule is not None:
                            estimates = candidate_maps(rule.candidates, sst, month_fields, ocean, daily.periodic_x,
                                                       sigma_px, rule)
                            sst, uncertainty = rule.apply(estimates, uncertainty, month_fields.nobs)
                        check_result(sst, uncertainty, ocean, pack=pack, where=months[i].label)
                        writer.write(written[i], sst, uncertainty, month_fields.nobs)
            if calibration:
                writer.set_calibration("\n".join(calibration))
        finally:
            writer.close()
    log.info("wrote %s", out)
    return out


class MonthCache:
    """The input's months as the model reads them (read_month), each read once: those of the current
    window are held for its maps; the check then takes a month to thin in place, or a copy of it where
    a later window or the low-rank candidate (keep_days) still needs its days."""

    def __init__(self, daily: DailyInput, months: list[Month], ocean: np.ndarray, loaded: LoadedModel,
                 windows: dict[int, range], keep_days: bool):
        self.daily, self.months, self.ocean, self.loaded = daily, months, ocean, loaded
        self.windows, self.keep_days = windows, keep_days  # the window of each month written
        self.held: dict[int, MonthFields] = {}

    def window(self, window: range) -> list[MonthFields]:
        """The window's months, read where not held; the months outside it are let go."""
        self.held = {j: self.held[j] if j in self.held else self.read(j) for j in window}
        return [self.held[j] for j in window]

    def to_thin(self, index: int, *, after: int) -> MonthFields:
        """Month `index` for the check to thin, once the maps of the months up to `after` are made."""
        if index not in self.held:
            return self.read(index)
        if self.keep_days or any(index in window for i, window in self.windows.items() if i > after):
            held = self.held[index]
            return MonthFields(held.slots.copy(), held.baseline, held.nobs)
        return self.held.pop(index)

    def read(self, index: int) -> MonthFields:
        return read_month(self.daily, self.months[index], self.ocean, self.loaded)
