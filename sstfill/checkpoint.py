"""What a model file holds, and how it is read back.

A model file is a contract: weights (with the normalisation statistics as buffers), the
constructor arguments, the data contract (variable, units, tile size, residual target...),
a checksum of the weights, a format version and the sstfill version. It holds only tensors
and plain values, so it loads with ``torch.load(weights_only=True)`` and never executes code.
Training state (optimizer, epoch) is not in it.

Reading verifies before it trusts: the zip archive's CRCs (torch's reader does not check
them), the payload's keys and types, the weights against their checksum, the settings, and
that the model is one of sea surface temperature in kelvin, the only quantity sstfill feeds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from sstfill import __version__
from sstfill.config import DataContract, ModelConfig, as_dict, from_dict
from sstfill.errors import CheckpointError, OutputError, SstfillError
from sstfill.io.read import SST_STANDARD_NAMES
from sstfill.model import SpatioTemporalModel

FORMAT = "sstfill-model"
# Raise it whenever the keys of a model file or their meaning change, so that an older sstfill refuses a
# newer file with an upgrade hint rather than an unknown key. 1: sstfill 0.1.0 (still read, CRC-checked);
# 2 (0.2.0): weights_sha256, model_args pixel_channels and baseline_structure, contract baseline_sigma_px None.
FORMAT_VERSION = 2
DEFAULT_MODEL = "default_model.pt"
SST_UNITS = "K"  # every input is converted to kelvin before it reaches the model

# The keys every model file holds, with their types; "training" and "weights_sha256" (format 2) come on top.
PAYLOAD_KEYS = {"format_version": int, "sstfill_version": str, "model_id": str, "model_args": dict,
                "contract": dict, "state_dict": dict}


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


def weights_checksum(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over each tensor's name, dtype, shape and bytes, in name order.

    It depends on the weights alone, not on how torch.save lays them out in the file.
    """
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(json.dumps([name, str(tensor.dtype), list(tensor.shape)]).encode() + b"\n")
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_model(path: str | Path, model: SpatioTemporalModel, config: ModelConfig, contract: DataContract,
               training: dict[str, Any]) -> str:
    """Write a self-contained model file; return its id (name plus a hash of the weights)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    checksum = weights_checksum(state)
    model_id = f"{Path(path).stem}-{checksum[:12]}"
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sstfill_version": __version__,
        "model_class": type(model).__name__,
        "model_id": model_id,
        "model_args": as_dict(config),
        "contract": as_dict(contract),
        "training": _plain(training),
        "weights_sha256": checksum,
        "state_dict": state,
    }
    write_model_file(Path(path), payload)
    return model_id


def write_model_file(path: Path, payload: dict[str, Any]) -> None:
    """Write beside the destination and rename, so that no one sees half a file; a failed write leaves nothing."""
    part = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, part)
        part.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        if isinstance(exc, (OSError, RuntimeError)):  # torch's writer reports a failed write as RuntimeError
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "the write failed"
            raise OutputError(f"expected to write the model file {path}, found {reason}; "
                              f"check the free space and write permission in {path.parent}") from None
        raise


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
    """Read a model file (the bundled default when path is None), verified, without executing code."""
    path = default_model_path() if path is None else Path(path)
    payload = _read_payload(path)
    _check_payload(payload, path)
    _check_weights(payload, path)
    config, contract = _read_settings(payload, path)
    _check_sst_contract(contract, path)
    model = _build_with_weights(config, contract, payload["state_dict"], path)
    if device is not None:
        model.to(device)
    return LoadedModel(model=model, config=config, contract=contract, model_id=payload["model_id"],
                       training=payload.get("training", {}), sstfill_version=payload["sstfill_version"])


def _remedy(path: Path) -> str:
    """What to do about a damaged model file."""
    if path == default_model_path():
        return "reinstall sstfill"
    return "copy the file again or retrain it with 'sstfill train'"


def _read_payload(path: Path) -> dict[str, Any]:
    """The unpickled contents of an intact sstfill model file of a format this sstfill reads."""
    if not path.is_file():
        found = "a directory" if path.is_dir() else "nothing"
        raise CheckpointError(f"expected a model file at {path}, found {found}; train one with 'sstfill train' or "
                              "omit --model")
    _check_zip(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        named = re.search(r"GLOBAL (\S+)", str(exc))
        raise CheckpointError(
            f"expected only tensors and plain values in {path}, found Python objects"
            f"{' (' + named.group(1) + ')' if named else ''}, which sstfill never loads as they could run code; "
            "pass a file written by 'sstfill train'"
        ) from None
    except Exception as exc:
        raise CheckpointError(
            f"could not read {path} as an sstfill model file ({type(exc).__name__}: {_torch_reason(exc)}); "
            "pass a file written by 'sstfill train'"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"expected an sstfill model file at {path}, found another kind of file; pass a file "
                              "written by 'sstfill train'")
    version = payload.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has model-file format {version}, this sstfill ({__version__}) reads up to "
                              f"{FORMAT_VERSION}; upgrade sstfill")
    return payload


def _check_zip(path: Path) -> None:
    """Refuse a file whose zip archive is incomplete or whose members fail their CRC."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except OSError as exc:
        raise CheckpointError(f"could not read the model file {path} ({exc.strerror or exc}); check that it is "
                              "readable") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, ValueError) as exc:
        raise CheckpointError(f"could not read {path} as an sstfill model file: expected a complete zip archive, "
                              f"found {'a damaged one' if zipfile.is_zipfile(path) else 'none'} ({exc}); "
                              f"pass a file written by 'sstfill train' (if it was one, it is truncated or corrupt: "
                              f"{_remedy(path)})") from None
    if damaged is not None:
        raise CheckpointError(f"the model file {path} is corrupt: its member {damaged} fails the zip CRC check; "
                              f"{_remedy(path)}")


def _torch_reason(exc: Exception) -> str:
    """torch's reason on one line, without its advice to load with weights_only=False, which would run code."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    safe = [line for line in lines if "weights_only" not in line]
    return re.sub(r"\x1b\[[0-9;]*m", "", safe[0]) if safe else "unreadable"


def _check_payload(payload: dict[str, Any], path: Path) -> None:
    """Every key present, with the type it must have; weights are tensors."""
    for key, kind in PAYLOAD_KEYS.items():
        _check_key(payload, key, kind, path)
    if payload["format_version"] >= 2:
        _check_key(payload, "weights_sha256", str, path)
    if "training" in payload:
        _check_key(payload, "training", dict, path)
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) and v.layout == torch.strided
               for k, v in payload["state_dict"].items()):
        raise CheckpointError(f"expected named tensors as state_dict in the model file {path}, found other values; "
                              f"{_remedy(path)}")


def _check_key(payload: dict[str, Any], key: str, kind: type, path: Path) -> None:
    value = payload.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        found = "nothing" if key not in payload else f"a {type(value).__name__}"
        raise CheckpointError(f"expected {key} ({kind.__name__}) in the model file {path}, found {found}; "
                              f"{_remedy(path)}")


def _check_weights(payload: dict[str, Any], path: Path) -> None:
    """The weights are those saved (format 2; format-1 files carry no checksum and rely on the zip CRCs)."""
    if "weights_sha256" in payload and weights_checksum(payload["state_dict"]) != payload["weights_sha256"]:
        raise CheckpointError(f"the model file {path} is corrupt: its weights do not match the checksum recorded "
                              f"when it was saved; {_remedy(path)}")


def _read_settings(payload: dict[str, Any], path: Path) -> tuple[ModelConfig, DataContract]:
    """The model's constructor arguments and data contract, each checked."""
    try:
        # Older files do not name these: their models were built without PixelPath (0.1.0) or BaselineStructure.
        config = from_dict(ModelConfig, {"pixel_channels": 0, "baseline_structure": False, **payload["model_args"]})
        contract = from_dict(DataContract, payload["contract"])
    except (SstfillError, TypeError, ValueError) as exc:
        raise CheckpointError(f"the settings in the model file {path} are invalid ({_one_line(exc)}); "
                              f"{_remedy(path)}") from None
    return config, contract


def _check_sst_contract(contract: DataContract, path: Path) -> None:
    """sstfill feeds every model sea surface temperature in kelvin: refuse a model of anything else."""
    if contract.variable not in SST_STANDARD_NAMES or contract.units != SST_UNITS:
        raise CheckpointError(
            f"expected a model of sea surface temperature in {SST_UNITS} in {path}, found one of {contract.variable} "
            f"in {contract.units}; this sstfill reconstructs SST in {SST_UNITS} only: pass a model trained on SST "
            "(sstfill train)"
        )


def _build_with_weights(config: ModelConfig, contract: DataContract, state: dict[str, torch.Tensor],
                        path: Path) -> SpatioTemporalModel:
    try:
        model = build_model(config, contract)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"the settings in the model file {path} do not build a model ({_one_line(exc)}); "
                              f"{_remedy(path)}") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"the weights in {path} do not fit the model they describe ({_one_line(exc)}); "
                              f"{_remedy(path)}") from None
    return model.eval()


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."
