"""Test-time adaptation: fine-tune the pretrained model on the very input it is about to reconstruct.

A model trained on other data meets a new region, season or sensor with its own structure
(DINCAE instead trains a network per dataset). Here a copy of the pretrained model is
trained for a bounded time on the input itself, self-supervised: each month is thinned
further with its own cloud shapes (hide_days, and never-observed patches moved elsewhere,
as in withhold), and the model learns to predict, from the thinned month, the mean of the
days withheld at each pixel. No truth is involved.

Why that target: it shares no day, and so no retrieval noise, with the thinned input. The
composite of all valid days (self-supervised prepare's target) also holds the days the
model still sees, so it favours the composite, which repeats them, over a model closer to
the truth.

Guard against harm: a fixed set of thinned validation tiles, scored only at pixels that
training never uses as targets (blocks set aside, and the caller's `exclude`), decides.
The copy is scored before any step and after each round; training stops when it has not
improved for PATIENCE rounds or the time budget is spent, and the best weights are kept
only if they beat the start. Otherwise the original model comes back, untouched.

What the guard cannot see: withheld observations carry the sensor's own errors (regional
retrieval errors shared with the neighbours seen that day), which a model trained against
true monthly means learned to leave out. So adaptation can lower the validation error and
still raise the error against the truth; it is off by default
(docs/research.md#adapting-to-the-input).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from sstfill.checkpoint import LoadedModel
from sstfill.config import ReconstructConfig
from sstfill.data.baseline import monthly_baseline
from sstfill.data.dataset import model_reference, normalised_target, run_model, window_inputs
from sstfill.data.months import Month, MonthFields, month_of_year, padded_days_mask
from sstfill.data.predict import model_normalisation, read_month
from sstfill.data.scores import FEW_DAYS
from sstfill.data.tiling import Tile, extract
from sstfill.data.withhold import MIN_HIDDEN_DAYS, hide_days, hide_unseen_elsewhere, withheld_days_mean
from sstfill.device import adamw
from sstfill.io.daily import DailyInput
from sstfill.model.loss import masked_mse
from sstfill.progress import progress

log = logging.getLogger(__name__)

THIN_FRACTION = 0.5
"""Share of days that also lose another day's clouds (hide_days), as self-supervised prepare."""

LEARNING_RATE = 1e-4
"""A tenth of the training rate: small steps away from weights that already work."""

BATCH_SIZE = 8
"""Tiles per step, and per pass over the validation tiles."""

ADAPT_MAX_BYTES = 2**30
"""adapt_to_input holds at most this many bytes of months (an even spread of them), at least one."""

MAX_STEPS = 300
STEPS_PER_ROUND = 20
PATIENCE = 3
"""Rounds without a validation improvement before stopping."""

MIN_GAIN = 1e-3
"""A round counts as better only if it lowers the best validation RMSE by this share."""

VALIDATION_BLOCK_SHARE = 0.2
"""Share of the blocks (a quarter tile square) whose pixels only validate and are never a target."""

VALIDATION_TILES = 16
MIN_VALIDATION_PIXELS = 200
"""Fewer scored validation pixels than this cannot tell a better model from noise: no adaptation."""


@dataclass
class AdaptReport:
    """What adapt_model did: steps taken, wall seconds, the validation RMSE (K, against the
    withheld days' means, so it includes their own spread about the month's mean) of the
    starting model and of the one returned, whether adapted weights were kept, and why it stopped."""

    steps: int
    seconds: float
    validation_rmse_before_k: float
    validation_rmse_after_k: float
    kept: bool
    validation_pixels: int
    stopped: str


def loss_weights(full_nobs: np.ndarray, thinned_nobs: np.ndarray, ocean: np.ndarray, allowed: np.ndarray,
                 few_days_weight: float) -> np.ndarray:
    """Per-pixel loss weights (float32): 0 unless the pixel is ocean, `allowed`, and at least
    MIN_HIDDEN_DAYS of its valid days were withheld (their mean is the target); pixels left with
    fewer than FEW_DAYS valid days weigh few_days_weight, as in training.
    """
    used = ocean & allowed & (full_nobs - thinned_nobs >= MIN_HIDDEN_DAYS)
    return np.where(used, np.where(thinned_nobs < FEW_DAYS, few_days_weight, 1.0), 0.0).astype(np.float32)


def validation_blocks(shape: tuple[int, int], block: int, rng: np.random.Generator,
                      share: float = VALIDATION_BLOCK_SHARE) -> np.ndarray:
    """(H, W) bool: square blocks drawn with probability `share`, at least one, never all.

    Validation pixels are kept apart from training targets: a pixel's withheld days change
    with each thinning but its true values do not, so scoring pixels that were trained on
    would reward memorising that map instead of learning to fill gaps."""
    rows, cols = -(-shape[0] // block), -(-shape[1] // block)
    chosen = rng.random((rows, cols)) < share
    if chosen.all() or not chosen.any():
        chosen[:] = False
        chosen.flat[rng.integers(chosen.size)] = True
    return np.kron(chosen, np.ones((block, block), bool))[:shape[0], :shape[1]]


def withheld_mean(full: np.ndarray, thinned: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """(M, H, W) float32 K: the mean of each pixel's valid days of `full` (M, D, H, W) that
    `thinned` hides, where `scored`; NaN elsewhere."""
    mean = np.stack([withheld_days_mean(month, np.isfinite(kept))[0]
                     for month, kept in zip(full, thinned, strict=True)])
    return np.where(scored, mean, np.nan).astype(np.float32)


class _Examples:
    """Thinned tiles of the input with their targets (the mean of each pixel's withheld days) and loss weights."""

    def __init__(self, loaded: LoadedModel, months: list[Month], fields: list[MonthFields], land: np.ndarray, *,
                 periodic_x: bool, sigma_px: float | tuple[float, float], few_days_weight: float):
        self.contract, self.norm = loaded.contract, model_normalisation(loaded.model)
        self.fields, self.land, self.ocean = fields, land, ~land
        self.periodic_x, self.sigma_px, self.few_days_weight = periodic_x, sigma_px, few_days_weight
        height, width = land.shape
        self.tile_h, self.tile_w = min(self.contract.tile_size, height), min(self.contract.tile_size, width)
        # The thinned baseline is filled from a crop around the tile, not the whole (maybe global) month.
        self.margin = self.contract.tile_size // 2
        size = min(self.contract.months_per_window, len(fields))
        self.windows = [list(range(s, s + size)) for s in range(len(fields) - size + 1)]
        self.padded = [padded_days_mask([months[i] for i in w], self.contract.max_days) for w in self.windows]
        self.moy = [month_of_year([months[i] for i in w]) for w in self.windows]

    def draw(self, rng: np.random.Generator, allowed: np.ndarray, *, flips: bool,
             tries: int = 20) -> dict[str, np.ndarray] | None:
        """One example (window_inputs arrays plus target and weight, normalised), or
        None if `tries` draws found no tile with a pixel to learn from."""
        height, width = self.land.shape
        px = self.periodic_x
        for _ in range(tries):
            w = int(rng.integers(len(self.windows)))
            window = self.windows[w]
            tile = Tile(int(rng.integers(height - self.tile_h + 1)),
                        int(rng.integers(width if px else width - self.tile_w + 1)), self.tile_h, self.tile_w)
            full_nobs = np.stack([extract(self.fields[i].nobs, tile, periodic_x=px) for i in window])
            ocean = extract(self.ocean, tile, periodic_x=px)
            tile_allowed = extract(allowed, tile, periodic_x=px)
            if not (ocean & tile_allowed & (full_nobs >= MIN_HIDDEN_DAYS)).any():
                continue
            thinned = [self._thinned(self.fields[i].slots, tile, rng) for i in window]
            if any(t is None for t in thinned):
                continue
            slots, baseline, nobs = (np.stack(parts) for parts in zip(*thinned, strict=True))
            weight = loss_weights(full_nobs, nobs, ocean[None], tile_allowed[None], self.few_days_weight)
            if not weight.any():
                continue
            full = np.stack([extract(self.fields[i].slots, tile, periodic_x=px) for i in window])
            target = withheld_mean(full, slots, weight > 0)
            reference = model_reference(baseline, self.contract.target)
            arrays = window_inputs(slots, reference, extract(self.land, tile, periodic_x=px), self.padded[w],
                                   self.moy[w], self.norm)
            arrays["target"], defined = normalised_target(target, reference, self.norm)
            arrays["weight"] = np.where(defined, weight, 0.0).astype(np.float32)
            if flips:  # the anomalies have no preferred orientation (as in training)
                axes = tuple(ax for ax, flip in zip((-2, -1), rng.integers(2, size=2), strict=True) if flip)
                if axes:
                    arrays = {k: v if k == "padded_days_mask" or v.ndim < 2 else np.ascontiguousarray(np.flip(v, axes))
                              for k, v in arrays.items()}
            return arrays
        return None

    def _thinned(self, slots: np.ndarray, tile: Tile, rng: np.random.Generator):
        """(thinned day slots, their filled composite, valid days) on the tile, or None when
        the thinning left nothing to fill from."""
        height, width = self.land.shape
        crop_h = min(height, self.tile_h + 2 * self.margin)
        y0 = min(max(tile.y0 - self.margin, 0), height - crop_h)
        crop_w = min(width, self.tile_w + 2 * self.margin)
        if self.periodic_x and crop_w < width:
            x0, inner_x, crop_periodic = (tile.x0 - self.margin) % width, self.margin, False
        elif self.periodic_x:  # the crop is the whole circle: the tile may wrap inside it
            x0, inner_x, crop_periodic = 0, tile.x0, True
        else:
            x0 = min(max(tile.x0 - self.margin, 0), width - crop_w)
            inner_x, crop_periodic = tile.x0 - x0, False
        crop = Tile(y0, x0, crop_h, crop_w)
        ocean = extract(self.ocean, crop, periodic_x=self.periodic_x)
        days = np.where(ocean, extract(slots, crop, periodic_x=self.periodic_x), np.nan).astype(np.float32)
        days = hide_unseen_elsewhere(hide_days(days, rng, THIN_FRACTION), ocean, rng, periodic_x=crop_periodic)
        try:
            baseline, nobs = monthly_baseline(days, ocean, sigma_px=self.sigma_px, periodic_x=crop_periodic)
        except ValueError:
            return None
        inner = Tile(tile.y0 - y0, inner_x, tile.height, tile.width)
        return tuple(extract(a, inner, periodic_x=crop_periodic) for a in (days, baseline, nobs))


def _batch(arrays: list[dict[str, np.ndarray]], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.stack([a[k] for a in arrays])).to(device) for k in arrays[0]}


def _train_mode(model: torch.nn.Module) -> None:
    """Dropout on as in training, but batch-norm statistics frozen: batches of thinned tiles
    of one input would pull them away from what the model sees on the full input."""
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def adaptation_loss(mean: torch.Tensor, log_var: torch.Tensor, start_log_var: torch.Tensor,
                    batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """MSE of the map against the targets (the first term of model.loss.training_loss), plus the
    squared departure of the log-variance from the starting model's over the tile's ocean.

    The variance is held, not fitted: the NLL against a mean of a few withheld days would fit
    sigma to that target's own spread (eight times the model's squared error on the bundled
    sample), and taking out that spread's estimate (withhold.mean_errors) overshoots
    (it exceeded the whole error there). The starting model's sigma is known to be calibrated."""
    ocean = ~batch["land_mask"][:, None].expand_as(log_var)
    return masked_mse(mean, batch["target"], batch["weight"]) + masked_mse(log_var, start_log_var, ocean)


@torch.no_grad()
def _validation_rmse(model: torch.nn.Module, batches: list[dict[str, torch.Tensor]], target_std: float) -> float:
    """RMSE (K) against the targets over the scored pixels of the validation batches, each pixel alike."""
    model.eval()
    total = count = 0.0
    for batch in batches:
        mean, _ = run_model(model, batch)
        scored = batch["weight"] > 0
        total += float((((mean.float() - batch["target"]) ** 2) * scored).sum())
        count += float(scored.sum())
    return math.sqrt(total / max(count, 1.0)) * target_std


def adapt_model(loaded: LoadedModel, months: list[Month], fields: list[MonthFields], land: np.ndarray, *,
                periodic_x: bool, sigma_px: float | tuple[float, float], device: torch.device,
                budget_s: float = ReconstructConfig.adapt_seconds, seed: int = 0, exclude: np.ndarray | None = None,
                learning_rate: float = LEARNING_RATE, max_steps: int = MAX_STEPS,
                batch_size: int = BATCH_SIZE) -> tuple[LoadedModel, AdaptReport]:
    """A copy of `loaded` fine-tuned on the input's own months (self-supervised), with its report;
    `loaded` itself, unchanged, when no round beat it on the validation tiles.

    fields: the input's months as reconstruct loads them (full, not thinned), in time order,
    one per entry of `months`; land (H, W) True = land. sigma_px: the baseline fill sigma
    reconstruct uses (contract.fill_sigma_px). budget_s: wall seconds in all, setup included.
    exclude (H, W) bool: pixels never used as a target here, nor to validate (the caller's
    own check of the adapted model). `loaded.model` is never modified.
    """
    started = time.monotonic()
    if len(fields) != len(months):
        raise ValueError(f"expected one MonthFields per month, found {len(fields)} for {len(months)} months")
    if exclude is not None and exclude.shape != land.shape:
        raise ValueError(f"exclude must be {land.shape} like land, found {exclude.shape}")
    steps, before, best, pixels = 0, math.nan, math.nan, 0

    def finish(result: LoadedModel, stopped: str) -> tuple[LoadedModel, AdaptReport]:
        report = AdaptReport(steps=steps, seconds=time.monotonic() - started, validation_rmse_before_k=before,
                             validation_rmse_after_k=best, kept=result is not loaded, validation_pixels=pixels,
                             stopped=stopped)
        log.info("test-time adaptation: %d step(s) in %.1f s, validation RMSE %.4f -> %.4f K on %d pixels, %s (%s)",
                 steps, report.seconds, before, best, pixels,
                 f"kept as {result.model_id}" if report.kept else "kept the original model", stopped)
        return result, report

    if budget_s <= 0 or max_steps <= 0:
        return finish(loaded, "no budget")
    examples, val_items, train_allowed = _split(loaded, months, fields, land, periodic_x=periodic_x,
                                                sigma_px=sigma_px, seed=seed, exclude=exclude)
    pixels = int(sum(int((a["weight"] > 0).sum()) for a in val_items))
    if pixels < MIN_VALIDATION_PIXELS:
        return finish(loaded, f"too few validation pixels (at least {MIN_VALIDATION_PIXELS} needed)")
    val_batches = [_batch(val_items[i:i + batch_size], device) for i in range(0, len(val_items), batch_size)]
    train_rng = np.random.default_rng([seed, 2])

    norm = examples.norm
    model = copy.deepcopy(loaded.model)
    start = copy.deepcopy(loaded.model).eval()  # the variance anchor; the caller's model is left alone
    timer = time.monotonic()
    before = best = _validation_rmse(model, val_batches, norm.target_std)
    validation_s = time.monotonic() - timer
    config = loaded.training.get("config", {})
    optimizer = adamw(model.parameters(), lr=learning_rate, weight_decay=float(config.get("weight_decay", 1e-4)))
    best_state, stale, step_s, stopped = None, 0, None, f"{max_steps} steps"
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []), \
            progress(max_steps, "adapting the model to the input (steps)") as advance:
        torch.manual_seed(seed)  # dropout draws, without touching the caller's random state
        while steps < max_steps:
            done_in_round, out_of_time = 0, False
            _train_mode(model)
            while done_in_round < STEPS_PER_ROUND and steps < max_steps:
                # The first step is guessed to cost what one validation pass did.
                if time.monotonic() - started + (step_s or validation_s) + validation_s > budget_s:
                    out_of_time = True
                    break
                timer = time.monotonic()
                items = [examples.draw(train_rng, train_allowed, flips=True) for _ in range(batch_size)]
                items = [a for a in items if a is not None]
                if not items:
                    return finish(loaded if best_state is None else _adapted(loaded, model, best_state),
                                  "no tile to learn from")
                batch = _batch(items, device)
                with torch.no_grad():
                    _, start_log_var = run_model(start, batch)
                mean, log_var = run_model(model, batch)
                loss = adaptation_loss(mean, log_var, start_log_var, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                steps += 1
                done_in_round += 1
                advance(1)
                elapsed = time.monotonic() - timer
                step_s = elapsed if step_s is None else 0.7 * step_s + 0.3 * elapsed
            if done_in_round:
                rmse = _validation_rmse(model, val_batches, norm.target_std)
                log.debug("adaptation step %d: validation RMSE %.4f K (start %.4f)", steps, rmse, before)
                if rmse < best * (1 - MIN_GAIN):
                    best, stale = rmse, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    stale += 1
            if out_of_time:
                stopped = f"budget of {budget_s:g} s"
                break
            if stale >= PATIENCE:
                stopped = f"no improvement in {PATIENCE} rounds"
                break
    return finish(loaded if best_state is None else _adapted(loaded, model, best_state), stopped)


def _split(loaded: LoadedModel, months: list[Month], fields: list[MonthFields], land: np.ndarray, *, periodic_x: bool,
           sigma_px: float | tuple[float, float], seed: int, exclude: np.ndarray | None):
    """(the example maker, the fixed validation tiles, the (H, W) pixels training may use as targets)."""
    few_days_weight = float(loaded.training.get("config", {}).get("few_days_weight", 3.0))
    examples = _Examples(loaded, months, fields, land, periodic_x=periodic_x, sigma_px=sigma_px,
                         few_days_weight=few_days_weight)
    rng = np.random.default_rng([seed, 1])
    keep_out = np.zeros(land.shape, bool) if exclude is None else exclude.astype(bool)
    held_out = validation_blocks(land.shape, max(loaded.contract.tile_size // 4, 1), rng)
    val_items = [a for a in (examples.draw(rng, held_out & ~keep_out, flips=False) for _ in range(VALIDATION_TILES))
                 if a is not None]
    return examples, val_items, ~held_out & ~keep_out


def _adapted(loaded: LoadedModel, model: torch.nn.Module, state: dict[str, torch.Tensor]) -> LoadedModel:
    model.load_state_dict(state)
    model.eval()
    return dataclasses.replace(loaded, model=model, model_id=f"{loaded.model_id}+adapted",
                               training={**loaded.training, "adapted_at_test_time": True})


def adapt_to_input(daily: DailyInput, months: list[Month], loaded: LoadedModel, land: np.ndarray, *,
                   device: torch.device, budget_s: float, seed: int, exclude: np.ndarray | None) -> LoadedModel:
    """adapt_model on the input's months as reconstruct reads them (at most ADAPT_MAX_BYTES of them)."""
    month_bytes = 4 * loaded.contract.max_days * land.size
    count = max(1, min(len(months), ADAPT_MAX_BYTES // month_bytes))
    chosen = np.unique(np.linspace(0, len(months) - 1, count).round().astype(int))
    if chosen.size < len(months):
        log.info("adapting on %d of the %d months, spread over the input (each takes %.0f MB)", chosen.size,
                 len(months), month_bytes / 2**20)
    fields = [read_month(daily, months[i], ~land, loaded) for i in chosen]
    adapted, _ = adapt_model(loaded, [months[i] for i in chosen], fields, land, periodic_x=daily.periodic_x,
                             sigma_px=loaded.contract.fill_sigma_px(daily.grid_steps_deg), device=device,
                             budget_s=budget_s, seed=seed, exclude=exclude)
    return adapted
