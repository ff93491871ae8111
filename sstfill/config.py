"""Typed settings per stage. Unknown keys are rejected, so a typo never passes silently."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from sstfill.errors import CheckpointError, InputError

C = TypeVar("C")

# residual: the model predicts the monthly value minus the baseline (the composite of the valid
# days, filled where empty); absolute: it predicts the monthly value itself.
TARGET_FORMS = ("residual", "absolute")
# supervised: trained against monthly targets; self-supervised: against withheld daily observations.
TRAINING_MODES = ("supervised", "self-supervised")
MAX_MONTH_DAYS = 31  # a model must have a day slot for every day of the longest month


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"expected settings {sorted(known)} for {cls.__name__}, found unknown {unknown}")
    return cls(**values)


def _require(valid: bool, expected: str, found: Any, advice: str) -> None:
    """Refuse a setting the model or training cannot use; `expected` names its command-line option where it has one."""
    if not valid:
        raise InputError(f"expected {expected}, found {found!r}; {advice}")


def _require_count(setting: str, value: Any, minimum: int) -> None:
    _require(_is_int(value) and value >= minimum, f"{setting} of {minimum} or more", value,
             f"pass a whole number of {minimum} or more")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class ModelConfig:
    """Constructor arguments of SpatioTemporalModel."""

    patch_size: tuple[int, int, int] = (1, 4, 4)
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
        _require(len(patch) == 3 and all(_is_int(p) and p >= 1 for p in patch),
                 "patch_size of three whole numbers of 1 or more (days, rows, columns)", self.patch_size,
                 "use the default (1, 4, 4)")
        self.patch_size = tuple(int(p) for p in patch)  # type: ignore[assignment]
        _require_count("num_heads", self.num_heads, 1)
        # The spatial position code gives half the channels to rows and half to columns, each in sine-cosine pairs.
        step = math.lcm(4, self.num_heads)
        _require(_is_int(self.embed_dim) and self.embed_dim >= step and self.embed_dim % step == 0,
                 f"--embed-dim of a multiple of 4 and of the {self.num_heads} attention heads", self.embed_dim,
                 f"pass e.g. {step * max(1, math.ceil(self.embed_dim / step)) if _is_real(self.embed_dim) else 64}")
        _require_count("--depth", self.depth, 1)
        _require_count("hidden", self.hidden, 1)
        _require_count("overlap", self.overlap, 0)
        _require_count("pixel_channels", self.pixel_channels, 0)
        _require(_is_real(self.dropout) and 0 <= self.dropout < 1, "a dropout of 0 or more and below 1", self.dropout,
                 "use the default 0.1")
        _require(isinstance(self.baseline_structure, bool), "baseline_structure true or false",
                 self.baseline_structure, "use the default (true)")


def fill_sigma_px(dy_deg: float, dx_deg: float) -> tuple[float, float]:
    """The sigmas (pixels along y, x) that gap filling starts from on a grid of these steps:
    what DataContract.baseline_sigma_px = None stands for.

    On square cells, sqrt(1 degree / spacing): 1 px at 1 degree, 2 px at 0.25 degree and
    4.5 px at 0.05 degree. The model does not learn to undo a poor fill at never-observed
    pixels, so the fill itself must suit the grid; the measurements behind the rule are in
    docs/research.md ("The first width of the gap fill"). On non-square cells the fill is
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
    max_days: int = 31
    baseline_sigma_px: float | None = None  # first gap-fill sigma; None: by grid steps (older model files: 2.0)
    grid_spacing_deg: list[float] = field(default_factory=list)  # spacings seen in training
    training_mode: str = "supervised"  # one of TRAINING_MODES (see sstfill.prepare)

    def __post_init__(self) -> None:
        # A contract is read back from model files, which may be damaged or crafted: check every field.
        for name in ("variable", "units"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise CheckpointError(f"expected a non-empty text {name}, found {getattr(self, name)!r}")
        _check_choice("target", self.target, TARGET_FORMS)
        _check_choice("training_mode", self.training_mode, TRAINING_MODES)
        _check_int("tile_size", self.tile_size, 1)  # the model pads a tile to its patch size, so any size works
        _check_int("months_per_window", self.months_per_window, 1)
        _check_int("max_days", self.max_days, MAX_MONTH_DAYS)
        if self.baseline_sigma_px is not None:
            _check_positive("baseline_sigma_px", self.baseline_sigma_px)
        if not isinstance(self.grid_spacing_deg, list):
            raise CheckpointError(f"expected a list for grid_spacing_deg, found {self.grid_spacing_deg!r}")
        for spacing in self.grid_spacing_deg:
            _check_positive("grid_spacing_deg", spacing)

    def fill_sigma_px(self, grid_steps_deg: tuple[float, float]) -> tuple[float, float]:
        """The sigmas (pixels along y, x) the baseline's gap fill starts from, on an input of these grid steps."""
        if self.baseline_sigma_px is None:
            return fill_sigma_px(*grid_steps_deg)
        return float(self.baseline_sigma_px), float(self.baseline_sigma_px)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise CheckpointError(f"expected {name} among {choices}, found {value!r}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if not (_is_int(value) and value >= minimum):
        raise CheckpointError(f"expected an integer {name} of at least {minimum}, found {value!r}")


def _check_positive(name: str, value: Any) -> None:
    if not (_is_real(value) and value > 0):
        raise CheckpointError(f"expected a positive finite {name}, found {value!r}")


@dataclass
class TrainConfig:
    epochs: int = 40
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    samples_per_epoch: int = 256
    validation_fraction: float = 0.25
    patience: int = 8
    seed: int = 0
    tile_size: int = 64
    months_per_window: int = 1
    target_form: str = "residual"  # or "absolute"
    few_days_weight: float = 3.0  # loss weight of pixels seen on fewer than 5 days of their month (others: 1)

    def __post_init__(self) -> None:
        _require_count("--epochs", self.epochs, 1)
        _require_count("--batch-size", self.batch_size, 1)
        _require_count("--samples-per-epoch", self.samples_per_epoch, 1)
        _require_count("--patience", self.patience, 1)
        _require(_is_int(self.tile_size) and self.tile_size >= 1, "a positive --tile-size", self.tile_size,
                 "pass 64 (the default)")  # train() also checks it against the model's patch
        _require_count("--months-per-window", self.months_per_window, 1)
        check_seed(self.seed)
        _require(_is_real(self.learning_rate) and self.learning_rate > 0, "a positive --learning-rate",
                 self.learning_rate, "pass e.g. 1e-3 (the default)")
        _require(_is_real(self.validation_fraction) and 0 < self.validation_fraction < 1,
                 "a --validation-fraction above 0 and below 1", self.validation_fraction, "pass e.g. 0.25 (the default)")
        _require(_is_real(self.weight_decay) and self.weight_decay >= 0, "a weight_decay of 0 or more",
                 self.weight_decay, "use the default 1e-4")
        _require(_is_real(self.few_days_weight) and self.few_days_weight > 0, "a positive few_days_weight",
                 self.few_days_weight, "use the default 3")
        if self.target_form not in TARGET_FORMS:
            raise InputError(f"expected a target form among {TARGET_FORMS}, found {self.target_form!r}; "
                             "use residual (recommended) or absolute")


def check_seed(seed: Any) -> None:
    """Seeds seed numpy's generators, which take 0 to 2**32 - 1."""
    _require(_is_int(seed) and 0 <= seed < 2**32, "a --seed from 0 to 2**32 - 1", seed, "pass e.g. 0")


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict (tuples as lists) that torch.load(weights_only=True) can read back."""
    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v
    return {k: plain(v) for k, v in asdict(obj).items()}
