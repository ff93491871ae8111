"""Typed settings per stage. Unknown keys are rejected, so a typo never passes silently."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from sstfill.errors import CheckpointError, InputError

C = TypeVar("C")

# residual: the model predicts the monthly value minus the baseline (the composite of the valid
# days, filled where empty); absolute: it predicts the monthly value itself.
TARGET_FORMS = ("residual", "absolute")


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"expected settings {sorted(known)} for {cls.__name__}, found unknown {unknown}")
    return cls(**values)


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
        self.patch_size = tuple(int(p) for p in self.patch_size)  # type: ignore[assignment]


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
    training_mode: str = "supervised"  # or "self-supervised" (see sstfill.prepare)

    def fill_sigma_px(self, grid_steps_deg: tuple[float, float]) -> tuple[float, float]:
        """The sigmas (pixels along y, x) the baseline's gap fill starts from, on an input of these grid steps."""
        from sstfill.data.baseline import fill_sigma_px

        if self.baseline_sigma_px is None:
            return fill_sigma_px(*grid_steps_deg)
        return float(self.baseline_sigma_px), float(self.baseline_sigma_px)


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
        if not self.few_days_weight > 0:
            raise InputError(f"expected a positive few_days_weight, found {self.few_days_weight}")
        if self.target_form not in TARGET_FORMS:
            raise InputError(f"expected a target form among {TARGET_FORMS}, found {self.target_form!r}; "
                             "use residual (recommended) or absolute")


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict (tuples as lists) that torch.load(weights_only=True) can read back."""
    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v
    return {k: plain(v) for k, v in asdict(obj).items()}
