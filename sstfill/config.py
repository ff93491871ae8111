"""Typed settings per stage: each setting's default and its check live here, once.

The command line takes its defaults from these dataclasses, and each checks every field when
built: InputError for the user's settings, CheckpointError for those read back from a model
file. Unknown keys are rejected, so a typo never passes silently.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from sstfill.errors import CheckpointError, InputError, SstfillError

C = TypeVar("C")

# residual: the model predicts the monthly value minus the baseline (the composite of the valid
# days, filled where empty); absolute: it predicts the monthly value itself.
TARGET_FORMS = ("residual", "absolute")
# supervised: trained against monthly targets; self-supervised: against withheld daily observations.
TRAINING_MODES = ("supervised", "self-supervised")
MAX_MONTH_DAYS = 31  # a model must have a day slot for every day of the longest month
MIN_QUALITY = 4  # the GHRSST quality_level an observation needs unless --min-quality says otherwise
DEVICE = "auto"  # CUDA when there is one, else the CPU (sstfill.device.resolve_device)
PRECISION = "fp32"  # the arithmetic a model runs in unless --precision says otherwise (one of PRECISIONS)
TRAIN_WORKERS = 0  # data-loading worker processes of sstfill train; 0 loads in the main process


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"expected settings {sorted(known)} for {cls.__name__}, found unknown {unknown}")
    return cls(**values)


def _require(valid: bool, expected: str, found: Any, advice: str = "",
             error: type[SstfillError] = InputError) -> None:
    """Refuse a setting: "expected ..., found ...; advice". InputError for the user's settings, whose
    `expected` names the command-line option where there is one; CheckpointError for a model file's."""
    if not valid:
        raise error(f"expected {expected}, found {found!r}" + (f"; {advice}" if advice else ""))


def _require_count(setting: str, value: Any, minimum: int, advice: str = "") -> None:
    _require(_is_count(value, minimum), f"{setting} of {minimum} or more", value,
             advice or f"pass a whole number of {minimum} or more")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_count(value: Any, minimum: int) -> bool:
    return _is_int(value) and value >= minimum


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


@dataclass
class ModelConfig:
    """Constructor arguments of SpatioTemporalModel."""

    patch_size: tuple[int, int, int] = (2, 4, 4)  # days, rows, columns (two days: docs/research.md)
    embed_dim: int = 64
    num_heads: int = 4
    depth: int = 2
    hidden: int = 64
    overlap: int = 1
    dropout: float = 0.1
    pixel_channels: int = 16  # full-resolution features for the decoder (encoder.PixelPath); 0 = none
    baseline_structure: bool = True  # the baseline's local anomalies as inputs (encoder.BaselineStructure)

    def __post_init__(self) -> None:
        patch = tuple(self.patch_size) if isinstance(self.patch_size, (list, tuple)) else ()
        _require(len(patch) == 3 and all(_is_count(p, 1) for p in patch),
                 "patch_size of three whole numbers of 1 or more (days, rows, columns)", self.patch_size,
                 f"use the default {ModelConfig.patch_size}")
        self.patch_size = tuple(int(p) for p in patch)  # type: ignore[assignment]
        _require_count("num_heads", self.num_heads, 1)
        # The spatial position code gives half the channels to rows and half to columns, each in sine-cosine pairs.
        step = math.lcm(4, self.num_heads)
        nearest = step * max(1, math.ceil(self.embed_dim / step)) if _is_real(self.embed_dim) else ModelConfig.embed_dim
        _require(_is_int(self.embed_dim) and self.embed_dim >= step and self.embed_dim % step == 0,
                 f"--embed-dim of a multiple of 4 and of the {self.num_heads} attention heads", self.embed_dim,
                 f"pass e.g. {nearest}")
        _require_count("--depth", self.depth, 1)
        _require_count("hidden", self.hidden, 1)
        _require_count("overlap", self.overlap, 0)
        _require_count("pixel_channels", self.pixel_channels, 0)
        _require(_is_real(self.dropout) and 0 <= self.dropout < 1, "a dropout of 0 or more and below 1", self.dropout,
                 f"use the default {ModelConfig.dropout:g}")
        _require(isinstance(self.baseline_structure, bool), "baseline_structure true or false",
                 self.baseline_structure, f"use the default ({str(ModelConfig.baseline_structure).lower()})")


def fill_sigma_px(dy_deg: float, dx_deg: float) -> tuple[float, float]:
    """The sigmas (pixels along y, x) that gap filling starts from on a grid of these steps:
    what DataContract.baseline_sigma_px = None stands for.

    On square cells, sqrt(1 degree / spacing): 1 px at 1 degree, 2 px at 0.25 degree and
    4.5 px at 0.05 degree. The model does not learn to undo a poor fill at never-observed
    pixels, so the fill itself must suit the grid
    (docs/research.md#the-first-width-of-the-gap-fill). On non-square cells the fill is
    as wide in degrees along both axes, sqrt(spacing) with spacing the geometric mean of the
    steps. A step of 0 (a single row or column) takes the other; 2 px when both are unknown.
    """
    steps = [step for step in (dy_deg, dx_deg) if step > 0]
    if not steps:
        return 2.0, 2.0
    width = math.sqrt(math.sqrt(math.prod(steps)) if len(steps) == 2 else steps[0])
    return (width / dy_deg if dy_deg > 0 else width / dx_deg, width / dx_deg if dx_deg > 0 else width / dy_deg)


@dataclass
class DataContract:
    """What a model expects of its input and what its output means; saved in the model file."""

    variable: str = "sea_surface_temperature"
    units: str = "K"
    target: str = "residual"  # one of TARGET_FORMS
    tile_size: int = 64
    months_per_window: int = 1
    max_days: int = MAX_MONTH_DAYS
    baseline_sigma_px: float | None = None  # first gap-fill sigma; None: by grid steps (older model files: 2.0)
    grid_spacing_deg: list[float] = field(default_factory=list)  # spacings seen in training
    training_mode: str = "supervised"  # one of TRAINING_MODES (see sstfill.prepare)

    def __post_init__(self) -> None:
        # A contract is read back from model files, which may be damaged or crafted: check every field.
        def require(valid: bool, expected: str, found: Any) -> None:
            _require(valid, expected, found, error=CheckpointError)

        for name in ("variable", "units"):
            value = getattr(self, name)
            require(isinstance(value, str) and value != "", f"a non-empty text {name}", value)
        for name, choices in (("target", TARGET_FORMS), ("training_mode", TRAINING_MODES)):
            value = getattr(self, name)
            require(isinstance(value, str) and value in choices, f"{name} among {choices}", value)
        # The model pads a tile to its patch size, so any tile size works.
        for name, minimum in (("tile_size", 1), ("months_per_window", 1), ("max_days", MAX_MONTH_DAYS)):
            value = getattr(self, name)
            require(_is_count(value, minimum), f"an integer {name} of at least {minimum}", value)
        if self.baseline_sigma_px is not None:
            require(_is_real(self.baseline_sigma_px) and self.baseline_sigma_px > 0,
                    "a positive finite baseline_sigma_px", self.baseline_sigma_px)
        require(isinstance(self.grid_spacing_deg, list), "a list for grid_spacing_deg", self.grid_spacing_deg)
        for spacing in self.grid_spacing_deg:
            require(_is_real(spacing) and spacing > 0, "a positive finite grid_spacing_deg", spacing)

    def fill_sigma_px(self, grid_steps_deg: tuple[float, float]) -> tuple[float, float]:
        """The sigmas (pixels along y, x) the baseline's gap fill starts from, on an input of these grid steps."""
        if self.baseline_sigma_px is None:
            return fill_sigma_px(*grid_steps_deg)
        return float(self.baseline_sigma_px), float(self.baseline_sigma_px)


@dataclass
class TrainConfig:
    """sstfill train's settings. The tile, window and target form default to DataContract's, which
    records what the model was trained with."""

    epochs: int = 40
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    samples_per_epoch: int = 256
    validation_fraction: float = 0.25
    patience: int = 8
    seed: int = 0
    tile_size: int = DataContract.tile_size
    months_per_window: int = DataContract.months_per_window
    target_form: str = DataContract.target  # one of TARGET_FORMS
    few_days_weight: float = 3.0  # loss weight of pixels seen on fewer than data.scores.FEW_DAYS days (others: 1)

    def __post_init__(self) -> None:
        _require_count("--epochs", self.epochs, 1)
        _require_count("--batch-size", self.batch_size, 1)
        _require_count("--samples-per-epoch", self.samples_per_epoch, 1)
        _require_count("--patience", self.patience, 1)
        _require(_is_count(self.tile_size, 1), "a positive --tile-size", self.tile_size,
                 f"pass {TrainConfig.tile_size} (the default)")  # train() also checks it against the model's patch
        _require_count("--months-per-window", self.months_per_window, 1)
        check_seed(self.seed)
        _require(_is_real(self.learning_rate) and self.learning_rate > 0, "a positive --learning-rate",
                 self.learning_rate, f"pass e.g. {TrainConfig.learning_rate:g} (the default)")
        _require(_is_real(self.validation_fraction) and 0 < self.validation_fraction < 1,
                 "a --validation-fraction above 0 and below 1", self.validation_fraction,
                 f"pass e.g. {TrainConfig.validation_fraction:g} (the default)")
        _require(_is_real(self.weight_decay) and self.weight_decay >= 0, "a weight_decay of 0 or more",
                 self.weight_decay, f"use the default {TrainConfig.weight_decay:g}")
        _require(_is_real(self.few_days_weight) and self.few_days_weight > 0, "a positive few_days_weight",
                 self.few_days_weight, f"use the default {TrainConfig.few_days_weight:g}")
        _require(self.target_form in TARGET_FORMS, f"a target form among {TARGET_FORMS}", self.target_form,
                 "use residual (recommended) or absolute")


@dataclass
class PrepareConfig:
    """sstfill prepare's settings; min_target_days and seed shape self-supervised stores only."""

    min_quality: int | None = MIN_QUALITY  # checked where the input is opened (io.read.open_daily)
    min_target_days: int = 10  # a self-supervised target is the mean of a pixel's days, where it has this many
    seed: int = 0  # draws the days a self-supervised store hides

    def __post_init__(self) -> None:
        check_seed(self.seed)

    def check_self_supervised(self) -> None:
        """The settings only a self-supervised store uses (a supervised one ignores min_target_days)."""
        _require(_is_int(self.min_target_days) and 1 <= self.min_target_days <= MAX_MONTH_DAYS,
                 f"--min-target-days from 1 to {MAX_MONTH_DAYS}", self.min_target_days,
                 f"pass e.g. {PrepareConfig.min_target_days} (the default): the target is the mean of the days a "
                 "pixel was seen")


@dataclass
class SynthConfig:
    """sstfill synth's settings besides the region; sstfill.synth.synth checks them as it generates."""

    resolution_deg: float = 0.25
    start: str = "2021-01-01"  # the first day, a month start
    months: int = 3
    seed: int = 0
    cloud_cover: float = 0.6
    calendar: str = "standard"
    form: str = "cube"  # one of sstfill.synth.FORMS


@dataclass
class ReconstructConfig:
    """sstfill reconstruct's settings (sstfill.reconstruct.reconstruct says what each does)."""

    min_quality: int | None = MIN_QUALITY  # checked where the input is opened (io.read.open_daily)
    batch_size: int | None = None  # tiles per forward pass; None: chosen for the device (device.inference_batch_size)
    precision: str = PRECISION
    pack: bool = False
    check: bool = True
    adapt: bool = False
    adapt_seconds: float = 60.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size is not None:
            _require_count("--batch-size", self.batch_size, 1, "pass a positive number of tiles")
        check_precision(self.precision)
        _require(_is_number(self.adapt_seconds) and self.adapt_seconds >= 0, "--adapt-seconds of 0 or more",
                 self.adapt_seconds, "pass a time budget in seconds")
        check_seed(self.seed)


PRECISIONS = ("fp32", "bf16", "fp16")
"""The arithmetic a model may run in: float32, or mixed precision with bfloat16 or float16 (autocast)."""
TRAIN_PRECISION = "auto"
"""Training's default: bf16 autocast where the device computes bfloat16 natively, else fp32
(sstfill.device.training_precision); models trained either way score alike (docs/research.md)."""
TRAIN_PRECISIONS = ("auto", "fp32", "bf16")
"""Those training may use: fp16 would need loss scaling."""


def check_precision(precision: Any, allowed: tuple[str, ...] = PRECISIONS, default: str = PRECISION) -> None:
    _require(precision in allowed, f"--precision {', '.join(allowed[:-1])} or {allowed[-1]}", precision,
             f"pass one of those ({default} is the default)")


def check_training(config: TrainConfig, model_config: ModelConfig, workers: Any, precision: Any) -> None:
    """What sstfill train needs beyond each record's own checks: a precision it can train in, a tile of at
    least the model's patch, and the data-loading workers."""
    check_precision(precision, TRAIN_PRECISIONS, TRAIN_PRECISION)
    patch = max(model_config.patch_size[1:])
    _require(config.tile_size >= patch, f"--tile-size of at least the model's patch ({patch} pixels)",
             config.tile_size, f"a smaller tile is a single padded patch; pass {TrainConfig.tile_size} (the default) "
             f"or another multiple of {patch}")
    _require_count("--workers", workers, 0, "pass 0 to load data in the main process")


def check_seed(seed: Any) -> None:
    """Seeds seed numpy's generators, which take 0 to 2**32 - 1."""
    _require(_is_int(seed) and 0 <= seed < 2**32, "a --seed from 0 to 2**32 - 1", seed, "pass e.g. 0")


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict (tuples as lists) that torch.load(weights_only=True) can read back."""
    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v
    return {k: plain(v) for k, v in asdict(obj).items()}
