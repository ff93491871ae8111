"""Stage 2: train SpatioTemporalModel on prepared stores and write a self-contained model file."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sstfill.checkpoint import build_model, save_model
from sstfill.config import DataContract, ModelConfig, TrainConfig, as_dict
from sstfill.data.dataset import TileDataset, pooled_normalisation, run_model, split_windows
from sstfill.device import resolve_device, seed_everything
from sstfill.errors import InputError
from sstfill.data.scores import FEW_DAYS
from sstfill.io.output import check_output_path
from sstfill.io.store import FILL_BY_SPACING, Store, open_store
from sstfill.model.loss import gaussian_nll, masked_mse, training_loss
from sstfill.progress import is_interactive, track

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    path: Path
    model_id: str
    best_epoch: int
    epochs_run: int
    validation_rmse_k: float
    validation_nll: float
    seconds: float


def _batches(loader: torch.utils.data.DataLoader, device: torch.device):
    for batch in loader:
        yield {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def evaluate_loss(model, loader, device, target_std: float) -> tuple[float, float]:
    """(validation NLL, validation RMSE in kelvin) over every validation tile."""
    model.eval()
    nll_sum = sq_sum = weight = 0.0
    for batch in _batches(loader, device):
        mean, log_var = run_model(model, batch)
        n = float(batch["loss_mask"].sum())
        nll_sum += float(gaussian_nll(mean, log_var, batch["target"], batch["loss_mask"])) * n
        sq_sum += float(masked_mse(mean, batch["target"], batch["loss_mask"])) * n
        weight += n
    return nll_sum / max(weight, 1.0), math.sqrt(sq_sum / max(weight, 1.0)) * target_std


def stop_early(epoch: int, best_epoch: int, config: TrainConfig) -> bool:
    """No improvement for `patience` epochs, counted only in the second half of the schedule.

    The one-cycle learning rate is high and validation noisy in the first half; stopping
    there would skip the annealing that gives the best model (it happened: a 60-epoch run
    stopped at epoch 23, still at a high learning rate).
    """
    return epoch > config.epochs // 2 and epoch - best_epoch >= config.patience


def train(stores: Sequence[str | Path], out: str | Path, *, config: TrainConfig | None = None,
          model_config: ModelConfig | None = None, device: str = "auto", workers: int = 0,
          overwrite: bool = False) -> TrainResult:
    """Train on one or more stores (from 'sstfill prepare'); write the model file to out.

    The best model so far is written to `out` whenever validation improves."""
    check_output_path(Path(out), [Path(p) for p in stores], overwrite=overwrite)
    config = config or TrainConfig()
    model_config = model_config or ModelConfig()
    started = time.monotonic()
    seed_everything(config.seed)
    torch_device = resolve_device(device)
    opened = [open_store(p) for p in stores]
    modes = sorted({str(s.attrs.get("training_mode", "supervised")) for s in opened})
    if len(modes) > 1:
        raise InputError(f"expected stores of one training mode, found {modes}; train on supervised and "
                         "self-supervised stores separately")
    absolute = config.target_form == "absolute"
    if absolute and not all("absolute_input_mean" in s.attrs for s in opened):
        raise InputError("expected stores with absolute-value statistics for --target-form absolute, found older stores; "
                         "prepare them again with this sstfill")
    norm = pooled_normalisation(opened, absolute=absolute)
    try:
        train_windows, val_windows = split_windows(opened, config.months_per_window, config.validation_fraction)
    except ValueError as exc:
        raise InputError(f"{exc}; prepare more months or lower --validation-fraction") from exc
    tile = min([config.tile_size] + [min(s.land.shape) for s in opened])
    spacings = sorted({round(float(s.attrs.get("grid_spacing_deg", 0.0)), 4) for s in opened})
    contract = DataContract(tile_size=tile, months_per_window=config.months_per_window, target=config.target_form,
                            training_mode=modes[0],
                            baseline_sigma_px=_baseline_sigma_px(opened), grid_spacing_deg=spacings,
                            variable=str(opened[0].attrs.get("variable_standard_name", "sea_surface_temperature")))
    model = build_model(model_config, contract).to(torch_device)
    model.set_normalisation(norm.input_mean, norm.input_std, norm.target_mean, norm.target_std)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("training on %d store(s): %d training and %d validation window(s), tiles %dx%d, %d parameters",
             len(opened), len(train_windows), len(val_windows), tile, tile, n_params)

    train_set = TileDataset(opened, train_windows, tile, norm, random=True, samples=config.samples_per_epoch, seed=config.seed,
                            target_form=config.target_form)
    val_set = TileDataset(opened, val_windows, tile, norm, random=False, target_form=config.target_form)
    loader_args = {"batch_size": config.batch_size, "num_workers": workers, "pin_memory": torch_device.type == "cuda"}
    train_loader = torch.utils.data.DataLoader(train_set, shuffle=False, drop_last=False, **loader_args)
    val_loader = torch.utils.data.DataLoader(val_set, shuffle=False, **loader_args)

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(train_set) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=steps, pct_start=0.1)
    best = {"loss": float("inf"), "epoch": 0, "rmse": float("nan"), "state": None}
    epochs_run = 0

    def summary(epochs: int) -> dict:
        return {
            "config": as_dict(config), "stores": [str(Path(p).name) for p in stores], "best_epoch": best["epoch"],
            "epochs_run": epochs, "validation_nll": best["loss"], "validation_rmse_k": best["rmse"],
            "seconds": round(time.monotonic() - started, 1), "device": str(torch_device),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        }
    for epoch in track(range(1, config.epochs + 1), description="training", log_every_s=float("inf")):
        model.train()
        train_set.epoch = epoch
        total = 0.0
        for batch in _batches(train_loader, torch_device):
            mean, log_var = run_model(model, batch)
            loss = training_loss(mean, log_var, batch["target"], _loss_weight(batch, config.few_days_weight))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * batch["x"].shape[0]
        val_nll, val_rmse = evaluate_loss(model, val_loader, torch_device, norm.target_std)
        epochs_run = epoch
        improved = val_nll < best["loss"]
        if improved:
            # clone(): a detached view would share storage with the live weights the optimizer keeps changing
            best.update(loss=val_nll, epoch=epoch, rmse=val_rmse,
                        state={k: v.detach().clone() for k, v in model.state_dict().items()})
            # The best model so far is on disk at once, so a job killed by its time limit still leaves one.
            save_model(out, model, model_config, contract, summary(epoch))
        log_line = log.info if not is_interactive() or improved or epoch == config.epochs else log.debug
        log_line("epoch %d/%d: train NLL %.4f, validation NLL %.4f, RMSE %.4f K%s", epoch, config.epochs,
                 total / len(train_set), val_nll, val_rmse, " (best)" if improved else "")
        if stop_early(epoch, best["epoch"], config):
            log.info("early stopping: no improvement for %d epochs", config.patience)
            break
    model.load_state_dict(best["state"])
    seconds = time.monotonic() - started
    model_id = save_model(out, model, model_config, contract, summary(epochs_run))
    log.info("wrote %s (best epoch %d, validation RMSE %.4f K, %.0f s)", out, best["epoch"], best["rmse"], seconds)
    return TrainResult(Path(out), model_id, best["epoch"], epochs_run, best["rmse"], best["loss"], seconds)


def _loss_weight(batch: dict[str, torch.Tensor], few_days_weight: float) -> torch.Tensor:
    """The loss mask as weights: pixels seen on fewer than FEW_DAYS days of their month weigh few_days_weight.

    Those pixels are where a reconstruction differs most from a composite, and they are few
    (a fifth of the held-out generated ocean pixel-months), so plain MSE spends little on them.
    """
    mask = batch["loss_mask"]
    b, m = mask.shape[:2]
    seen = (~batch["daily_mask"]).reshape(b, m, -1, *mask.shape[2:]).sum(dim=2)
    return mask * torch.where(seen < FEW_DAYS, few_days_weight, 1.0)


def _baseline_sigma_px(stores: list[Store]) -> float | None:
    """The contract's baseline_sigma_px: None when every store was filled by its grid spacing (as
    prepare does now), else the one fixed sigma of older stores."""
    sigmas = {None if s.attrs.get("baseline_fill") == FILL_BY_SPACING else float(s.attrs["baseline_sigma_px"])
              for s in stores}
    if len(sigmas) > 1:
        found = sorted(FILL_BY_SPACING if v is None else f"a fixed {v:g} px" for v in sigmas)
        raise InputError(f"expected stores whose baselines were gap-filled alike, found {' and '.join(found)}; "
                         "prepare the older stores again with this sstfill")
    return sigmas.pop()
