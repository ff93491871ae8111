"""Stage 3: daily gappy SST -> gap-free monthly maps on the input grid, as CF NetCDF.

The domain is cut into overlapping tiles of the size the model was trained on, and the
tile predictions are cross-faded, so any grid size works, a global grid wraps in
longitude, and memory is bounded by one month window of the input plus one batch of tiles.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from sstfill.baselines.dineof import dineof_monthly
from sstfill.checkpoint import LoadedModel, load_model
from sstfill.data.baseline import monthly_baseline
from sstfill.data.calibration import ChoiceRule, WithheldErrors
from sstfill.data.dataset import Normalisation, model_reference, run_model, window_inputs
from sstfill.data.months import (Month, MonthFields, centred_windows, group_months, incomplete_text, load_month,
                                 month_bounds, month_of_year, padded_days_mask)
from sstfill.data.tiling import Stitcher, Tile, blend_weights, extract, ocean_tiles
from sstfill.data.withhold import Withheld, withhold
from sstfill.device import resolve_device
from sstfill.errors import InputError
from sstfill.io.files import one_line
from sstfill.io.land import resolve_land
from sstfill.io.output import atomic_output, check_output_path
from sstfill.io.read import DailyInput, open_daily
from sstfill.io.validate import check_valid_data
from sstfill.io.write import SELF_SUPERVISED_UNCERTAINTY, UNCALIBRATED, MonthlyWriter, OutputInfo
from sstfill.progress import progress

log = logging.getLogger(__name__)

SPACING_MARGIN = 1.5
"""A grid this many times finer or coarser than every grid seen in training gets a warning."""

CHECK_TILE_SHARE = 1 / 3
"""The share of the ocean tiles (at least one) that the model is run on with observations withheld."""

MIN_CHECK_PIXELS = 500
"""Fewer withheld pixels than this in all leave the model's output and sigma as they are."""

LOW_RANK_MAX_ENTRIES = 4_000_000
"""The low-rank (DINEOF) candidate runs on months of up to this many ocean pixels x days."""


def normalisation_of(model: torch.nn.Module) -> Normalisation:
    return Normalisation(float(model.input_mean), float(model.input_std), float(model.target_mean), float(model.target_std))


@torch.no_grad()
def predict_window(loaded: LoadedModel, fields: list[MonthFields], land: np.ndarray, months, tiles: list[Tile], *,
                   periodic_x: bool, device: torch.device, batch_size: int = 8,
                   advance: Callable[[int], None] = lambda n: None) -> tuple[np.ndarray, np.ndarray]:
    """Monthly SST and its one-sigma uncertainty (M, H, W) in kelvin for one window of months,
    from the model's predictions on `tiles` (ocean_tiles); advance(n) is told of each batch."""
    model, contract = loaded.model, loaded.contract
    norm = normalisation_of(model)
    slots = fields[0].slots[None] if len(fields) == 1 else np.stack([f.slots for f in fields])  # no copy of one month
    baseline = model_reference(np.stack([f.baseline for f in fields]), contract.target)
    padded, moy = padded_days_mask(months, contract.max_days), month_of_year(months)
    n_months, height, width = baseline.shape
    stitcher = Stitcher(2 * n_months, height, width, periodic_x=periodic_x)
    for start in range(0, len(tiles), batch_size):
        batch_tiles = tiles[start:start + batch_size]
        arrays = [window_inputs(extract(slots, t, periodic_x=periodic_x), extract(baseline, t, periodic_x=periodic_x),
                                extract(land, t, periodic_x=periodic_x), padded, moy, norm) for t in batch_tiles]
        batch = {k: torch.from_numpy(np.stack([a[k] for a in arrays])).to(device) for k in arrays[0]}
        mean, log_var = run_model(model, batch)
        residual = mean.float().cpu().numpy() * norm.target_std + norm.target_mean
        sigma = np.exp(0.5 * log_var.float().cpu().numpy()) * norm.target_std
        for i, tile in enumerate(batch_tiles):
            weights = blend_weights(tile.height, tile.width, contract.tile_size // 4)
            stitcher.add(np.concatenate([residual[i], sigma[i]]), tile, weights)
        advance(len(batch_tiles))
    stitched = stitcher.result()
    ocean = ~land
    sst = np.where(ocean, baseline + stitched[:n_months], np.nan).astype(np.float32)
    uncertainty = np.where(ocean, stitched[n_months:], np.nan).astype(np.float32)
    return sst, uncertainty


def warn_if_unseen_spacing(loaded: LoadedModel, spacing_deg: float) -> None:
    """Say so when the input's grid spacing is outside those the model was trained on."""
    seen = loaded.contract.grid_spacing_deg
    if seen and spacing_deg and not min(seen) / SPACING_MARGIN <= spacing_deg <= max(seen) * SPACING_MARGIN:
        log.warning("the input's grid spacing, %g degree, is outside the %g to %g degree that model %s was trained on; "
                    "its accuracy there has not been measured: check it against a reference (sstfill evaluate) or "
                    "train a model on data at this spacing", spacing_deg, min(seen), max(seen), loaded.model_id)


def reconstruct(inputs: Sequence[str | os.PathLike] | str | os.PathLike, out: str | Path, *,
                model: str | Path | None = None, device: str = "auto", variable: str | None = None,
                min_quality: int | None = 4, land_mask: str | Path | None = None, batch_size: int = 8,
                pack: bool = False, overwrite: bool = False, check: bool = True, seed: int = 0,
                history: str = "sstfill reconstruct") -> Path:
    """Reconstruct gap-free monthly SST from daily files; write CF NetCDF to `out`.

    check: first withhold observations of the input and score the model, a low-rank
    (DINEOF) reconstruction and the filled composite on them, by valid-day class; in each
    class the model is kept unless another did significantly better, and sigma is scaled to
    the chosen one's error there (sstfill.data.calibration). False: the model's maps and
    sigma as they come. seed: which observations are withheld.
    Every check that can fail (inputs, output path, model, valid data, land) runs before
    the output is created; the output is written beside `out` and renamed when complete.
    """
    out = Path(out)
    daily = open_daily(inputs, variable=variable, min_quality=min_quality)
    check_output_path(out, [Path(p) for p in daily.sources], overwrite=overwrite)
    torch_device = resolve_device(device)
    loaded = load_model(model, torch_device)
    warn_if_unseen_spacing(loaded, daily.grid_spacing_deg)
    months = group_months(daily.sst["time"])
    validity = check_valid_data(daily, months)
    incomplete = incomplete_text(months)
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
    starts, ends = month_bounds(months, daily.calendar, daily.sst["time"].values)
    log.info("reconstructing %d month(s) on a %dx%d grid%s with model %s; land from %s", len(months), daily.lat.size,
             daily.lon.size, " (global, longitude wraps)" if daily.periodic_x else "", loaded.model_id, land_source)
    windows = centred_windows(len(months), loaded.contract.months_per_window)
    tiles = ocean_tiles(land, loaded.contract.tile_size, periodic_x=daily.periodic_x)
    rule = None
    if check:
        rule = check_on_withheld(daily, months, loaded, land, windows, tiles, device=torch_device,
                                 batch_size=batch_size, seed=seed)
    info = OutputInfo(standard_name=daily.standard_name, calendar=daily.calendar, history=history,
                      model_id=loaded.model_id, sources=daily.sources, land_source=land_source, pack=pack,
                      training_mode=loaded.contract.training_mode,
                      calibration=rule.describe() if rule else UNCALIBRATED)
    if loaded.contract.training_mode == "self-supervised":
        log.warning("model %s was trained self-supervised: %s", loaded.model_id, SELF_SUPERVISED_UNCERTAINTY)
    with atomic_output(out) as tmp:
        writer = MonthlyWriter(tmp, daily.lat, daily.lon, starts, ends, info)
        try:
            loaded_months: dict[int, MonthFields] = {}  # the current window's months, each read once
            with progress(len(windows) * len(tiles), "reconstructing (tiles)") as advance:
                for index, (window, place) in enumerate(windows):
                    loaded_months = {i: loaded_months[i] if i in loaded_months else _load(daily, months[i], ocean, loaded)
                                     for i in window}
                    fields = [loaded_months[i] for i in window]
                    sst, uncertainty = predict_window(loaded, fields, land, [months[i] for i in window], tiles,
                                                      periodic_x=daily.periodic_x, device=torch_device,
                                                      batch_size=batch_size, advance=advance)
                    sst, uncertainty = sst[place], uncertainty[place]
                    if rule is not None:
                        estimates = candidate_maps(rule.candidates, sst, fields[place], ocean, daily.periodic_x, rule)
                        sst, uncertainty = rule.apply(estimates, uncertainty, fields[place].nobs)
                    writer.write(index, sst, uncertainty, fields[place].nobs)
        finally:
            writer.close()
    log.info("wrote %s", out)
    return out


def check_on_withheld(daily: DailyInput, months: list[Month], loaded: LoadedModel, land: np.ndarray, windows, tiles,
                      *, device: torch.device, batch_size: int, seed: int) -> ChoiceRule | None:
    """The rule fitted on observations withheld from the input (sstfill.data.calibration), or
    None when too few could be withheld; the model runs on CHECK_TILE_SHARE of the tiles."""
    ocean = ~land
    rng = np.random.default_rng(seed)
    sigma_px = loaded.contract.fill_sigma_px(daily.grid_steps_deg)
    errors = WithheldErrors(("model", "low_rank", "composite") if _low_rank_affordable(ocean, loaded)
                            else ("model", "composite"))
    thinned: dict[int, tuple] = {}
    count = max(1, round(CHECK_TILE_SHARE * len(tiles)))
    with progress(len(windows) * count, "checking on withheld observations (tiles)") as advance:
        for window, place in windows:
            thinned = {i: thinned[i] if i in thinned else _thinned_month(daily, months[i], ocean, loaded, rng, sigma_px)
                       for i in window}
            fields = [thinned[i][0] for i in window]
            subset = [tiles[i] for i in np.sort(rng.choice(len(tiles), size=count, replace=False))]
            sst, sigma = predict_window(loaded, fields, land, [months[i] for i in window], subset,
                                        periodic_x=daily.periodic_x, device=device, batch_size=batch_size,
                                        advance=advance)
            month_fields, held = thinned[window[place]]
            estimates = candidate_maps(errors.candidates, sst[place], month_fields, ocean, daily.periodic_x)
            errors.add(estimates, sigma[place], held.reference, held.reference_var, month_fields.nobs)
    if errors.pixels < MIN_CHECK_PIXELS:
        log.warning("only %d pixels could be checked on withheld observations (at least %d are needed): the output is "
                    "the model's, with its own uncalibrated sigma", errors.pixels, MIN_CHECK_PIXELS)
        return None
    rule = errors.rule()
    log.info("on withheld observations, by valid days: %s", rule.describe())
    return rule


def candidate_maps(names: Sequence[str], model_sst: np.ndarray, fields: MonthFields, ocean: np.ndarray,
                   periodic_x: bool, rule: ChoiceRule | None = None) -> dict[str, np.ndarray]:
    """Each candidate's monthly map (H, W) for one month; with a rule, only those it gives weight."""
    maps = {"model": model_sst, "composite": fields.baseline}
    if "low_rank" in names and (rule is None or rule.uses("low_rank")):
        try:
            maps["low_rank"], _ = dineof_monthly(fields.slots, ocean, periodic_x=periodic_x)
        except ValueError:  # no valid ocean value left: the candidate has nothing to work from
            maps["low_rank"] = np.full(ocean.shape, np.nan, np.float32)
    return maps


def _thinned_month(daily: DailyInput, month: Month, ocean: np.ndarray, loaded: LoadedModel, rng: np.random.Generator,
                   sigma_px: float):
    """(MonthFields of the month with observations withheld, the Withheld record)."""
    full = _load(daily, month, ocean, loaded)
    held = withhold(full.slots, ocean, rng, days_in_month=month.days_in_month, periodic_x=daily.periodic_x)
    try:
        baseline, nobs = monthly_baseline(held.slots, ocean, sigma_px=sigma_px, periodic_x=daily.periodic_x)
    except ValueError:  # everything withheld: keep the month whole and score nothing in it
        nothing = np.full(ocean.shape, np.nan, np.float32)
        return full, Withheld(slots=full.slots, reference=nothing, reference_var=nothing)
    return MonthFields(slots=held.slots, baseline=baseline, nobs=nobs), held


def _low_rank_affordable(ocean: np.ndarray, loaded: LoadedModel) -> bool:
    entries = int(ocean.sum()) * loaded.contract.max_days
    if entries > LOW_RANK_MAX_ENTRIES:
        log.info("the low-rank (DINEOF) candidate is left out: %d ocean pixels x %d days exceeds %d", int(ocean.sum()),
                 loaded.contract.max_days, LOW_RANK_MAX_ENTRIES)
        return False
    return True


def _load(daily: DailyInput, month: Month, ocean: np.ndarray, loaded: LoadedModel) -> MonthFields:
    try:
        return load_month(daily.sst, month, ocean, sigma_px=loaded.contract.fill_sigma_px(daily.grid_steps_deg),
                          periodic_x=daily.periodic_x, max_days=loaded.contract.max_days)
    except ValueError as exc:
        raise InputError(f"expected valid SST over ocean in {month.label}, found none ({exc}); "
                         "drop that month from the input or lower --min-quality") from exc
    except (OSError, RuntimeError) as exc:  # netCDF/HDF5 errors while reading the month
        raise InputError(f"could not read the SST of {month.label} from {daily.sources_text} ({one_line(exc)}); "
                         "check the files are complete (re-download or regenerate them)") from exc
