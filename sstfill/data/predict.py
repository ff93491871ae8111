"""Running a loaded model on a user's input: months read as the model expects, tiles predicted and stitched.

reconstruct, its check on withheld observations and test-time adaptation all go through
here, so they cannot disagree on what the model sees.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from sstfill.checkpoint import LoadedModel
from sstfill.config import PRECISION
from sstfill.data.dataset import Normalisation, model_reference, run_model, window_inputs
from sstfill.data.months import Month, MonthFields, load_month, month_of_year, padded_days_mask
from sstfill.data.tiling import Stitcher, Tile, blend_weights, extract, tile_overlap
from sstfill.device import inference_batch_size, to_device
from sstfill.errors import InputError
from sstfill.io.daily import DailyInput
from sstfill.io.files import one_line
from sstfill.model.spatiotemporal import SpatioTemporalModel


def model_normalisation(model: SpatioTemporalModel) -> Normalisation:
    """The anomaly statistics the model was trained with (kept in its buffers)."""
    return Normalisation(float(model.input_mean), float(model.input_std), float(model.target_mean),
                         float(model.target_std))


@torch.inference_mode()  # no autograd bookkeeping at all, unlike no_grad
def predict_window(loaded: LoadedModel, fields: list[MonthFields], land: np.ndarray, months, tiles: list[Tile], *,
                   periodic_x: bool, device: torch.device, batch_size: int | None = None, precision: str = PRECISION,
                   advance: Callable[[int], None] = lambda n: None,
                   tile_days: dict[Tile, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Monthly SST and its one-sigma uncertainty (M, H, W) in kelvin for one window of months,
    from the model's predictions on `tiles` (ocean_tiles), `batch_size` tiles at a time (None:
    device.inference_batch_size) in `precision`; advance(n) is told of each batch. tile_days: each
    tile's days (M, max_days, th, tw), already cut out of months whose fields no longer hold them."""
    batch_size = batch_size or inference_batch_size(device)
    model, contract = loaded.model, loaded.contract
    norm = model_normalisation(model)
    days_of: Callable[[Tile], np.ndarray]
    if tile_days is None:
        slots = fields[0].slots[None] if len(fields) == 1 else np.stack([f.slots for f in fields])  # no copy of one
        days_of = partial(extract, slots, periodic_x=periodic_x)
    else:
        days_of = tile_days.__getitem__
    baseline = model_reference(np.stack([f.baseline for f in fields]), contract.target)
    padded, moy = padded_days_mask(months, contract.max_days), month_of_year(months)
    n_months, height, width = baseline.shape
    stitcher = Stitcher(2 * n_months, height, width, periodic_x=periodic_x)
    for start in range(0, len(tiles), batch_size):
        batch_tiles = tiles[start:start + batch_size]
        arrays = [window_inputs(days_of(t), extract(baseline, t, periodic_x=periodic_x),
                                extract(land, t, periodic_x=periodic_x), padded, moy, norm) for t in batch_tiles]
        batch = {k: to_device(np.stack([a[k] for a in arrays]), device) for k in arrays[0]}
        mean, log_var = run_model(model, batch, precision)
        residual = mean.cpu().numpy() * norm.target_std + norm.target_mean
        sigma = np.exp(0.5 * log_var.cpu().numpy()) * norm.target_std
        for i, tile in enumerate(batch_tiles):
            weights = blend_weights(tile.height, tile.width, tile_overlap(contract.tile_size))
            stitcher.add(np.concatenate([residual[i], sigma[i]]), tile, weights)
        advance(len(batch_tiles))
    stitched = stitcher.result()  # in place, as what follows: a global 0.05 degree map is 100 MB
    del stitcher
    stitched[:, land] = np.nan
    sst, uncertainty = stitched[:n_months], stitched[n_months:]
    sst += baseline
    return sst, uncertainty


def read_month(daily: DailyInput, month: Month, ocean: np.ndarray, loaded: LoadedModel) -> MonthFields:
    """One month of the input, ready for the model (months.load_month), with read errors as InputError."""
    try:
        return load_month(daily.sst, month, ocean, sigma_px=loaded.contract.fill_sigma_px(daily.grid_steps_deg),
                          periodic_x=daily.periodic_x, max_days=loaded.contract.max_days)
    except ValueError as exc:
        raise InputError(f"expected valid SST over ocean in {month.label}, found none ({exc}); "
                         "drop that month from the input or lower --min-quality") from exc
    except (OSError, RuntimeError) as exc:  # netCDF/HDF5 errors while reading the month
        raise InputError(f"could not read the SST of {month.label} from {daily.sources_text} ({one_line(exc)}); "
                         "check the files are complete (re-download or regenerate them)") from exc
