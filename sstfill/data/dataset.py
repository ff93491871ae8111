"""Model-ready tensors from month windows: the one place inputs are normalised.

Training (random tiles of prepared stores) and reconstruction (tiles of a user's file)
both go through ``window_inputs``, so the two can never disagree on what the model sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sstfill.config import PRECISION
from sstfill.data.tiling import Tile, extract, ocean_tiles
from sstfill.device import autocast
from sstfill.io.store import Store


@dataclass(frozen=True)
class Normalisation:
    """Statistics of the anomalies (value - baseline), in kelvin."""

    input_mean: float
    input_std: float
    target_mean: float
    target_std: float


def window_inputs(slots: np.ndarray, baseline: np.ndarray, land: np.ndarray, padded: np.ndarray,
                  month_of_year: np.ndarray, norm: Normalisation) -> dict[str, np.ndarray]:
    """Arrays for SpatioTemporalModel.forward (without the batch axis).

    slots (M, D, H, W) daily K with NaN gaps; baseline (M, H, W) K; land (H, W); padded (M, D).
    """
    months, days = slots.shape[:2]
    anomaly = (slots - baseline[:, None]) - norm.input_mean
    missing = ~np.isfinite(anomaly) | land[None, None] | padded[:, :, None, None]
    x = np.where(missing, 0.0, anomaly / norm.input_std).astype(np.float32)
    return {
        "x": x.reshape(1, months * days, *slots.shape[2:]),
        "daily_mask": missing.reshape(1, months * days, *slots.shape[2:]),
        "padded_days_mask": padded.astype(bool),
        "land_mask": land.astype(bool),
        "month_of_year": month_of_year.astype(np.int64),
        "baseline": np.nan_to_num(baseline).astype(np.float32),
    }


def run_model(model: torch.nn.Module, batch: dict[str, torch.Tensor],
              precision: str = PRECISION) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's (mean, log-variance) in float32 for a batch of window_inputs arrays (batch axis first),
    computed in `precision` (sstfill.config.PRECISIONS)."""
    with autocast(batch["x"].device, precision):
        mean, log_var = model(batch["x"], batch["daily_mask"], batch["padded_days_mask"], batch["land_mask"],
                              batch["month_of_year"], batch["baseline"])
    return mean.float(), log_var.float()


def model_reference(baseline: np.ndarray, target_form: str) -> np.ndarray:
    """What the model's output is added to: the baseline (residual form) or zero (absolute
    form, the model predicts the values themselves); NaN on land either way."""
    if target_form == "absolute":
        return np.where(np.isfinite(baseline), 0.0, np.nan).astype(np.float32)
    return baseline


def normalised_target(target: np.ndarray, baseline: np.ndarray, norm: Normalisation) -> tuple[np.ndarray, np.ndarray]:
    """(target anomaly normalised, 0 where undefined; bool mask of pixels the loss counts)."""
    anomaly = (target - baseline - norm.target_mean) / norm.target_std
    defined = np.isfinite(anomaly)
    return np.where(defined, anomaly, 0.0).astype(np.float32), defined


def pooled_normalisation(stores: list[Store], *, absolute: bool = False) -> Normalisation:
    """Combine the stores' statistics as if computed over all of them at once.

    absolute: statistics of the values themselves, for models that predict the target
    directly rather than its departure from the baseline."""
    def pool(prefix: str) -> tuple[float, float]:
        counts = np.array([float(s.attrs[f"{prefix}_count"]) for s in stores])
        means = np.array([float(s.attrs[f"{prefix}_mean"]) for s in stores])
        stds = np.array([float(s.attrs[f"{prefix}_std"]) for s in stores])
        mean = float((counts * means).sum() / counts.sum())
        var = float((counts * (stds**2 + (means - mean) ** 2)).sum() / counts.sum())
        return mean, float(max(np.sqrt(var), 1e-6))

    prefix = "absolute_" if absolute else ""
    input_mean, input_std = pool(f"{prefix}input")
    target_mean, target_std = pool(f"{prefix}target")
    return Normalisation(input_mean, input_std, target_mean, target_std)


@dataclass(frozen=True)
class Window:
    store: int
    months: tuple[int, ...]


def split_windows(stores: list[Store], months_per_window: int,
                  validation_fraction: float) -> tuple[list[Window], list[Window]]:
    """Training and validation windows, split by month: the last months of each store validate."""
    train, validation = [], []
    for s, store in enumerate(stores):
        n = store.n_months
        n_val = int(np.ceil(validation_fraction * n)) if validation_fraction > 0 else 0
        n_train = n - n_val
        if n_train < 1 or (validation_fraction > 0 and n_val < 1):
            raise ValueError(f"store {store.path} has {n} month(s): too few to split into training and validation "
                             "months")
        size = min(months_per_window, n_train)
        train += [Window(s, tuple(range(i, i + size))) for i in range(n_train - size + 1)]
        vsize = min(months_per_window, n_val)
        validation += [Window(s, tuple(range(i, min(i + vsize, n)))) for i in range(n_train, n, max(vsize, 1))]
    return train, validation


class TileDataset(torch.utils.data.Dataset):
    """Tiles of month windows drawn from prepared stores.

    random=True: each item is a random window and tile position, with random flips (the
    anomalies have no preferred orientation), reproducible from (seed, epoch, index).
    Windows are drawn in proportion to the square root of their store's grid spacing: a
    tile of a coarse grid spans more ocean and more kinds of situation, and drawing every
    window alike leaves coarse grids under-trained
    (docs/research.md#changes-to-the-model-and-its-training).
    random=False: every tile of every window, in order (for validation).
    """

    def __init__(self, stores: list[Store], windows: list[Window], tile: int, norm: Normalisation, *,
                 random: bool, samples: int = 0, seed: int = 0, min_ocean_fraction: float = 0.2,
                 target_form: str = "residual"):
        self.stores, self.windows, self.tile, self.norm, self.target_form = stores, windows, tile, norm, target_form
        self.random, self.samples, self.seed, self.epoch = random, samples, seed, 0
        self.min_ocean_fraction = min_ocean_fraction
        spacing = np.array([float(stores[w.store].attrs.get("grid_spacing_deg", 0.0)) or 1.0 for w in windows])
        self.window_p = np.sqrt(spacing) / np.sqrt(spacing).sum()
        self.fixed: list[tuple[Window, Tile]] = []
        if not random:
            self.fixed = [(w, t) for w in windows for t in ocean_tiles(stores[w.store].land, tile)]

    def __len__(self) -> int:
        return self.samples if self.random else len(self.fixed)

    def share(self, rank: int, processes: int) -> list[int]:
        """The items one of several training processes takes: every processes-th, from its rank.

        Random tiles: each process draws ceil(samples / processes) tiles, its own (an item is a
        function of seed, epoch and index), together those one process would draw, and up to
        processes - 1 more, so that all take the same number of steps. Fixed tiles: each once."""
        if self.random:
            return list(range(rank, processes * -(-self.samples // processes), processes))
        return list(range(rank, len(self.fixed), processes))

    def _random_item(self, index: int) -> tuple[Window, Tile, tuple[bool, bool]]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        window = self.windows[rng.choice(len(self.windows), p=self.window_p)]
        land = self.stores[window.store].land
        h, w = min(self.tile, land.shape[0]), min(self.tile, land.shape[1])
        for _ in range(20):
            tile = Tile(int(rng.integers(land.shape[0] - h + 1)), int(rng.integers(land.shape[1] - w + 1)), h, w)
            if (~extract(land, tile)).mean() >= self.min_ocean_fraction:
                break
        flips = (bool(rng.integers(2)), bool(rng.integers(2)))
        return window, tile, flips

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if self.random:
            window, tile, flips = self._random_item(index)
        else:
            (window, tile), flips = self.fixed[index], (False, False)
        store = self.stores[window.store]
        months = list(window.months)
        baseline = model_reference(extract(store.baseline[months], tile), self.target_form)
        inputs = window_inputs(extract(store.daily[months], tile), baseline, extract(store.land, tile),
                               store.padded[months], store.month_of_year[months], self.norm)
        target, loss_mask = normalised_target(extract(store.target[months], tile), baseline, self.norm)
        inputs.update(target=target, loss_mask=loss_mask & ~inputs["land_mask"][None])
        axes = tuple(ax for ax, flip in zip((-2, -1), flips, strict=True) if flip)
        out = {}
        for name, value in inputs.items():
            if axes and value.ndim >= 2 and name not in ("padded_days_mask",):
                value = np.flip(value, axis=axes).copy()  # torch refuses negative strides, which a flip leaves
            out[name] = torch.from_numpy(np.ascontiguousarray(value))
        return out
