"""What a model file holds, and how it is read back.

A model file is a contract: weights (with the normalisation statistics as buffers), the
constructor arguments, the data contract (variable, units, tile size, residual target...),
a format version and the sstfill version. It holds only tensors and plain values, so it
loads with ``torch.load(weights_only=True)`` and never executes code. Training state
(optimizer, epoch) is not in it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from sstfill import __version__
from sstfill.config import DataContract, ModelConfig, as_dict, from_dict
from sstfill.errors import CheckpointError
from sstfill.model import SpatioTemporalModel

FORMAT = "sstfill-model"
FORMAT_VERSION = 1
DEFAULT_MODEL = "default_model.pt"


@dataclass
class LoadedModel:
    model: SpatioTemporalModel
    config: ModelConfig
    contract: DataContract
    model_id: str
    training: dict[str, Any]
    sstfill_version: str


def build_model(config: ModelConfig, contract: DataContract) -> SpatioTemporalModel:
    return SpatioTemporalModel(**as_dict(config), max_days=contract.max_days)


def save_model(path: str | Path, model: SpatioTemporalModel, config: ModelConfig, contract: DataContract,
               training: dict[str, Any]) -> str:
    """Write a self-contained model file; return its id (name plus a hash of the weights)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    model_id = f"{Path(path).stem}-{hashlib.sha256(buffer.getvalue()).hexdigest()[:12]}"
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sstfill_version": __version__,
        "model_class": type(model).__name__,
        "model_id": model_id,
        "model_args": as_dict(config),
        "contract": as_dict(contract),
        "training": _plain(training),
        "state_dict": state,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(payload, tmp)
    tmp.replace(path)
    return model_id


def _plain(value: Any) -> Any:
    """Python scalars and containers only, so weights_only loading accepts them (no numpy scalars)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, torch.Tensor):
        return value.item()
    return value


def default_model_path() -> Path:
    return Path(str(resources.files("sstfill.resources").joinpath(DEFAULT_MODEL)))


def load_model(path: str | Path | None = None, device: torch.device | None = None) -> LoadedModel:
    """Read a model file (the bundled default when path is None) without executing code."""
    path = default_model_path() if path is None else Path(path)
    if not path.is_file():
        raise CheckpointError(f"expected a model file at {path}, found nothing; train one with 'sstfill train' or omit --model")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"could not read {path} as an sstfill model file ({type(exc).__name__}: {exc}); "
            "pass a file written by 'sstfill train'"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"expected an sstfill model file at {path}, found another kind of file; pass a file written by 'sstfill train'")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has model-file format {payload['format_version']}, this sstfill ({__version__}) reads up to "
            f"{FORMAT_VERSION}; upgrade sstfill"
        )
    # Older files do not name these: their models were built without PixelPath (0.1.0) or BaselineStructure.
    config = from_dict(ModelConfig, {"pixel_channels": 0, "baseline_structure": False, **payload["model_args"]})
    contract = from_dict(DataContract, payload["contract"])
    model = build_model(config, contract)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"the weights in {path} do not fit the model they describe: {exc}") from exc
    model.eval()
    if device is not None:
        model.to(device)
    return LoadedModel(model=model, config=config, contract=contract, model_id=str(payload["model_id"]),
                       training=dict(payload.get("training", {})), sstfill_version=str(payload["sstfill_version"]))
