"""Stage 2: train SpatioTemporalModel on prepared stores and write a self-contained model file.

A run stopped by a signal or its time limit keeps the training state of its last completed epoch
beside the model file (sstfill.training_state), and resume=True goes on from there to the weights
an uninterrupted run ends with. Under torchrun or srun, several processes train together
(sstfill.distributed), each on its own share of the tiles.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sstfill.checkpoint import build_model, save_model
from sstfill.config import (
    DEVICE,
    PRECISION,
    TRAIN_PRECISION,
    TRAIN_WORKERS,
    DataContract,
    ModelConfig,
    TrainConfig,
    as_dict,
    check_training,
)
from sstfill.data.dataset import TileDataset, pooled_normalisation, run_model, split_windows
from sstfill.data.scores import FEW_DAYS
from sstfill.device import adamw, seed_everything, training_precision
from sstfill.distributed import (
    SINGLE,
    Processes,
    all_sum,
    all_true,
    from_environment,
    gather,
    process_device,
    process_group,
    quiet_unless_main,
    share_buffers,
    wrap,
)
from sstfill.errors import InputError, ResultError
from sstfill.io.store import baseline_sigma_px, open_store
from sstfill.model.loss import gaussian_nll, masked_mse, training_loss
from sstfill.progress import is_interactive, track
from sstfill.training_state import (
    check_outputs,
    load_state,
    random_state,
    restore,
    run_settings,
    save_state,
    training_state,
)

log = logging.getLogger(__name__)

# A validation RMSE this many times that of the model's reference (the filled composite, or the
# mean for absolute targets) means training has diverged: an untrained model starts near 1x.
DIVERGED_RMSE_FACTOR = 10.0


@dataclass
class TrainResult:
    path: Path
    model_id: str
    best_epoch: int
    epochs_run: int
    validation_rmse_k: float
    validation_nll: float
    seconds: float
    main_process: bool = True  # False in the other processes of a distributed run, which write nothing


def _batches(loader: torch.utils.data.DataLoader, device: torch.device):
    for batch in loader:
        yield {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def evaluate_loss(model, loader, device, target_std: float, precision: str = PRECISION,
                  processes: Processes = SINGLE) -> tuple[float, float]:
    """(validation NLL, validation RMSE in kelvin) over every validation tile, of every process's share."""
    model.eval()
    nll_sum = sq_sum = weight = 0.0
    for batch in _batches(loader, device):
        mean, log_var = run_model(model, batch, precision)
        n = float(batch["loss_mask"].sum())
        nll_sum += float(gaussian_nll(mean, log_var, batch["target"], batch["loss_mask"])) * n
        sq_sum += float(masked_mse(mean, batch["target"], batch["loss_mask"])) * n
        weight += n
    nll_sum, sq_sum, weight = all_sum([nll_sum, sq_sum, weight], processes, device)
    return nll_sum / max(weight, 1.0), math.sqrt(sq_sum / max(weight, 1.0)) * target_std


@torch.no_grad()
def reference_rmse(tiles: TileDataset, target_std: float) -> float:
    """Validation RMSE in kelvin of a model that corrects nothing (predicts zero, normalised).

    Read from the dataset, not a DataLoader: each loader pass draws from torch's global random
    state, which would change the dropout of the training that follows."""
    sq_sum = weight = 0.0
    for tile in tiles:
        n = float(tile["loss_mask"].sum())
        sq_sum += float(masked_mse(torch.zeros_like(tile["target"]), tile["target"], tile["loss_mask"])) * n
        weight += n
    return math.sqrt(sq_sum / max(weight, 1.0)) * target_std


def stop_early(epoch: int, best_epoch: int, config: TrainConfig) -> bool:
    """No improvement for `patience` epochs, counted only in the second half of the schedule.

    The one-cycle learning rate is high and validation noisy in the first half; stopping
    there would skip the annealing that gives the best model.
    """
    return epoch > config.epochs // 2 and epoch - best_epoch >= config.patience


def train(stores: Sequence[str | Path], out: str | Path, *, config: TrainConfig | None = None,
          model_config: ModelConfig | None = None, device: str = DEVICE, workers: int = TRAIN_WORKERS,
          precision: str = TRAIN_PRECISION,
          overwrite: bool = False, resume: bool = False) -> TrainResult:
    """Train on one or more stores (from 'sstfill prepare'); write the model file to out.

    The best model so far is written to `out` whenever validation improves. Training that
    diverges (a non-finite loss, or a validation RMSE DIVERGED_RMSE_FACTOR times that of the
    filled composite) stops: the best model of the epochs before is kept (with a warning), and
    without one nothing is written and ResultError is raised.

    The training state is written beside `out` at the end of every epoch but the last; on a stop
    (Ctrl-C, or a stop signal through the CLI) the one of the last completed epoch is kept, and
    resume=True continues from it with the same stores and settings; it is removed at the end.
    Under torchrun or srun each process trains on its own share of the tiles; rank 0 alone
    logs and writes. precision: fp32, bf16 autocast (fp16 would need loss scaling), or auto: bf16 where
    the device computes it natively, else fp32 (sstfill.device.training_precision)."""
    config = config or TrainConfig()
    model_config = model_config or ModelConfig()
    check_training(config, model_config, workers, precision)
    processes = from_environment()
    out, state_file = check_outputs(out, stores, overwrite=overwrite, resume=resume)
    progress = _Progress(state_file, config.epochs)
    try:
        return _train(stores, out, config, model_config, device, workers, precision, resume, processes, progress)
    except KeyboardInterrupt:
        if processes.is_main:
            progress.keep()
        raise


def _train(stores: Sequence[str | Path], out: Path, config: TrainConfig, model_config: ModelConfig, device: str,
           workers: int, precision: str, resume: bool, processes: Processes, progress: _Progress) -> TrainResult:
    """train() once its settings and outputs are checked."""
    state_file = progress.state_file
    started = time.monotonic()
    quiet_unless_main(processes)
    # Each process its own dropout; rank 0 (and a single process) exactly as seeded.
    seed_everything((config.seed + processes.rank) % 2**32)
    torch_device = process_device(device, processes)
    precision = training_precision(precision, torch_device)
    opened = [open_store(p) for p in stores]
    modes = sorted({str(s.attrs.get("training_mode", "supervised")) for s in opened})  # 0.1.0 stores: supervised
    if len(modes) > 1:
        raise InputError(f"expected stores of one training mode, found {modes}; train on supervised and "
                         "self-supervised stores separately")
    absolute = config.target_form == "absolute"
    if absolute and not all("absolute_input_mean" in s.attrs for s in opened):
        raise InputError("expected stores with absolute-value statistics for --target-form absolute, found older "
                         "stores; prepare them again with this sstfill")
    norm = pooled_normalisation(opened, absolute=absolute)
    try:
        train_windows, val_windows = split_windows(opened, config.months_per_window, config.validation_fraction)
    except ValueError as exc:
        raise InputError(f"{exc}; prepare more months or lower --validation-fraction") from exc
    tile = min([config.tile_size] + [min(s.land.shape) for s in opened])
    spacings = sorted({round(float(s.attrs.get("grid_spacing_deg", 0.0)), 4) for s in opened})
    contract = DataContract(tile_size=tile, months_per_window=config.months_per_window, target=config.target_form,
                            training_mode=modes[0],
                            baseline_sigma_px=baseline_sigma_px(opened), grid_spacing_deg=spacings,
                            variable=str(opened[0].attrs.get("variable_standard_name", DataContract.variable)))
    settings = run_settings(config, model_config, opened, processes.world_size)
    saved = load_state(state_file, settings) if resume else None
    if saved is not None:
        progress.completed = saved["epoch"]
    model = build_model(model_config, contract).to(torch_device)
    model.set_normalisation(norm.input_mean, norm.input_std, norm.target_mean, norm.target_std)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("training on %d store(s): %d training and %d validation window(s), tiles %dx%d, %d parameters",
             len(opened), len(train_windows), len(val_windows), tile, tile, n_params)

    train_set = TileDataset(opened, train_windows, tile, norm, random=True, samples=config.samples_per_epoch,
                            seed=config.seed, target_form=config.target_form)
    val_set = TileDataset(opened, val_windows, tile, norm, random=False, target_form=config.target_form)
    loader_args = {"batch_size": config.batch_size, "num_workers": workers, "pin_memory": torch_device.type == "cuda"}
    train_loader = torch.utils.data.DataLoader(train_set, shuffle=False, drop_last=False,
                                               sampler=_share(train_set, processes), **loader_args)
    val_loader = torch.utils.data.DataLoader(val_set, shuffle=False, sampler=_share(val_set, processes),
                                             **loader_args)

    optimizer = adamw(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * len(train_loader)
    # OneCycleLR divides by zero when its warm-up is exactly one step (10 steps in all): make it longer there.
    warmup = 0.1 if steps != 10 else 0.15
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=steps,
                                                    pct_start=warmup)
    reference = "the filled composite" if config.target_form == "residual" else "the mean value"
    reference_k = reference_rmse(val_set, norm.target_std)
    best = {"loss": float("inf"), "epoch": 0, "rmse": float("nan"), "state": None}
    first_epoch, seconds_before = 1, 0.0
    if saved is not None:
        best = dict(saved["best"])
        first_epoch, seconds_before = saved["epoch"] + 1, saved["seconds"]
        log.info("resuming from the end of epoch %d of %d (%s)", saved["epoch"], config.epochs, state_file)
    elif processes.is_main and state_file.exists():
        log.warning("removing %s, the training state of an earlier run that was not resumed", state_file)
        state_file.unlink()
    epochs_run = first_epoch - 1
    diverged_at = None

    def seconds() -> float:
        return seconds_before + time.monotonic() - started

    def summary(epochs: int) -> dict:
        return {
            "config": as_dict(config), "stores": [str(Path(p).name) for p in stores], "best_epoch": best["epoch"],
            "epochs_run": epochs, "validation_nll": best["loss"], "validation_rmse_k": best["rmse"],
            "seconds": round(seconds(), 1), "device": str(torch_device), "precision": precision,
            "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""), "diverged_at_epoch": diverged_at,
            "processes": processes.world_size, "resumed_from_epoch": saved["epoch"] if saved is not None else None,
        }

    with process_group(processes, torch_device):
        net = wrap(model, processes, torch_device)
        if processes.distributed:
            log.info("each of the %d processes draws %d of the %d tiles of an epoch; a step averages %d tiles",
                     processes.world_size, len(train_loader.sampler), config.samples_per_epoch,
                     processes.world_size * config.batch_size)
        if saved is not None:
            restore(saved, model, optimizer, scheduler, processes.rank, torch_device, state_file)
        try:
            for epoch in _epochs(first_epoch, config.epochs, processes):
                net.train()
                train_set.epoch = epoch
                epochs_run = epoch
                epoch_started = time.monotonic()
                total, tiles, divergence = _train_epoch(net, train_loader, optimizer, scheduler, torch_device, config,
                                                        precision, processes)
                epoch_seconds = time.monotonic() - epoch_started
                if divergence is None:
                    share_buffers(model, processes)
                    val_nll, val_rmse = evaluate_loss(model, val_loader, torch_device, norm.target_std, precision,
                                                      processes)
                    if not (math.isfinite(val_nll) and math.isfinite(val_rmse)):
                        divergence = f"a validation loss of {val_nll}"
                    elif reference_k > 0 and val_rmse > DIVERGED_RMSE_FACTOR * reference_k:
                        divergence = (f"a validation RMSE of {val_rmse:.3g} K, over {DIVERGED_RMSE_FACTOR:g} times "
                                      f"the {reference_k:.3g} K of {reference}")
                if divergence is not None:
                    diverged_at = epoch
                    _stop_diverged(epoch, divergence, best["epoch"], config, warn=processes.is_main)
                    break
                improved = val_nll < best["loss"]
                if improved:
                    # clone(): a detached view would share storage with the live weights the optimizer keeps changing
                    best.update(loss=val_nll, epoch=epoch, rmse=val_rmse,
                                state={k: v.detach().clone() for k, v in model.state_dict().items()})
                    if processes.is_main:
                        # The best model so far is on disk at once, so a job killed outright still leaves one.
                        save_model(out, model, model_config, contract, summary(epoch))
                finished = epoch == config.epochs or stop_early(epoch, best["epoch"], config)
                if not finished:
                    # Before the epoch's log line, which tells a watcher the epoch is over.
                    progress.pending = training_state(
                        settings=settings, epoch=epoch, seconds=seconds(), model=model, optimizer=optimizer,
                        scheduler=scheduler, best=best, random_states=gather(random_state(torch_device), processes))
                    progress.completed = epoch
                    if processes.is_main:
                        save_state(state_file, progress.pending)
                    progress.pending = None
                log_line = log.info if not is_interactive() or improved or epoch == config.epochs else log.debug
                log_line("epoch %d/%d: train NLL %.4f, validation NLL %.4f, RMSE %.4f K, %s%s", epoch, config.epochs,
                         total / tiles, val_nll, val_rmse,
                         throughput(tiles, epoch_seconds, tile, contract.months_per_window * contract.max_days),
                         " (best)" if improved else "")
                if stop_early(epoch, best["epoch"], config):
                    log.info("early stopping: no improvement for %d epochs", config.patience)
                    break
            if best["rmse"] >= reference_k > 0 and processes.is_main:
                log.warning("the best model (validation RMSE %.4f K) does no better than %s alone (%.4f K); train "
                            "longer or on more data before using it", best["rmse"], reference, reference_k)
            model.load_state_dict(best["state"])
            model_id = save_model(out, model, model_config, contract, summary(epochs_run)) if processes.is_main else ""
        finally:
            del net  # DDP holds the process group: release it before the group ends
    if processes.is_main:
        state_file.unlink(missing_ok=True)
    log.info("wrote %s (best epoch %d, validation RMSE %.4f K, %.0f s)", out, best["epoch"], best["rmse"], seconds())
    return TrainResult(Path(out), model_id, best["epoch"], epochs_run, best["rmse"], best["loss"], seconds(),
                       processes.is_main)


def throughput(tiles: int, seconds: float, tile_size: int, days: int) -> str:
    """Training speed for the epoch's log line: tiles per second and pixel-days (tiles x tile_size^2 x
    day slots of a window) per second, comparable across tile sizes and window lengths."""
    per_second = tiles / max(seconds, 1e-9)
    return f"{per_second:.1f} tiles/s, {per_second * tile_size ** 2 * days / 1e6:.2f} M pixel-days/s"


def _share(tiles: TileDataset, processes: Processes) -> list[int] | None:
    """This process's tiles as a DataLoader sampler; None (the DataLoader's own order) with one process."""
    return tiles.share(processes.rank, processes.world_size) if processes.distributed else None


def _epochs(first: int, last: int, processes: Processes) -> Iterable[int]:
    epochs = range(first, last + 1)
    return track(epochs, description="training", log_every_s=float("inf")) if processes.is_main else epochs


@dataclass
class _Progress:
    """How far a run got, for what a stop keeps: the last epoch whose training state is on disk, and that
    state while it is being written."""

    state_file: Path
    epochs: int
    completed: int = 0
    pending: dict | None = None

    def keep(self) -> None:
        """On a stop: the state of the last completed epoch on disk, and one line on how to go on."""
        if self.pending is not None:  # the stop came while it was being written
            save_state(self.state_file, self.pending)
        if self.completed == 0 or not self.state_file.is_file():
            log.warning("stopped in epoch 1, before any epoch ended: nothing to resume; run the same command again")
            return
        log.warning("stopped in epoch %d of %d; to continue from the end of epoch %d (kept in %s), run the same "
                    "command with --resume: epoch %d starts again from its beginning", self.completed + 1,
                    self.epochs, self.completed, self.state_file, self.completed + 1)


def _train_epoch(model, loader, optimizer, scheduler, device, config: TrainConfig, precision: str = PRECISION,
                 processes: Processes = SINGLE) -> tuple[float, int, str | None]:
    """One pass over the training tiles: (loss summed over tiles, tiles, None), or stopped at the first
    non-finite loss, (so far, what was found): a step on it would turn every weight to NaN. Over all
    processes: every process stops where one finds a non-finite loss."""
    total, tiles = 0.0, 0
    for batch in _batches(loader, device):
        mean, log_var = run_model(model, batch, precision)
        loss = training_loss(mean, log_var, batch["target"], _loss_weight(batch, config.few_days_weight))
        if not all_true(bool(torch.isfinite(loss)), processes, device):
            found = float(loss)
            return total, tiles, (f"a training loss of {found}" if not math.isfinite(found) else
                                  "a non-finite training loss in another process")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        total += float(loss.detach()) * batch["x"].shape[0]
        tiles += batch["x"].shape[0]
    total, tiles = all_sum([total, tiles], processes, device)
    return total, int(tiles), None


def _stop_diverged(epoch: int, found: str, best_epoch: int, config: TrainConfig, warn: bool = True) -> None:
    """Training diverged: keep the best model of the epochs before (warn), or refuse when there is none."""
    advice = f"lower --learning-rate (this run: {config.learning_rate:g}; the default is {TrainConfig.learning_rate:g})"
    if best_epoch == 0:
        raise ResultError(f"expected training to converge, found {found} in epoch {epoch}; no model was written; "
                          f"{advice}")
    if warn:
        log.warning("training diverged in epoch %d (%s); keeping the best model, from epoch %d; to train further, %s",
                    epoch, found, best_epoch, advice)


def _loss_weight(batch: dict[str, torch.Tensor], few_days_weight: float) -> torch.Tensor:
    """The loss mask as weights: pixels seen on fewer than FEW_DAYS days of their month weigh few_days_weight.

    Those pixels are where a reconstruction differs most from a composite, and they are few
    (a fifth of the held-out generated ocean pixel-months), so plain MSE spends little on them.
    """
    mask = batch["loss_mask"]
    b, m = mask.shape[:2]
    seen = (~batch["daily_mask"]).reshape(b, m, -1, *mask.shape[2:]).sum(dim=2)
    return mask * torch.where(seen < FEW_DAYS, few_days_weight, 1.0)
