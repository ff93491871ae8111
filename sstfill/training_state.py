"""The training state that lets a stopped run go on exactly as if it had never stopped.

Kept apart from the model file (sstfill.checkpoint), which holds only what reconstruction
needs. Training writes it beside the model file (model.pt.resume), atomically, at the end of
every epoch but the last, so a job killed outright (SIGKILL, a node failure) loses at most one
epoch; training that completes removes it. Like a model file it holds only tensors and plain
values, and is read with torch.load(weights_only=True).

It holds the model, optimizer and scheduler states, the epoch, the best model so far (early
stopping counts from it, and it becomes the model file) and the random states of every
process: Python's, NumPy's, torch's and CUDA's. Dropout and the DataLoader draw from torch's;
the random tiles of an epoch are a function of (seed, epoch, index) (TileDataset), so the
epoch is their whole state.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sstfill import __version__
from sstfill.config import ModelConfig, TrainConfig, as_dict
from sstfill.errors import CheckpointError, OutputError
from sstfill.io.output import atomic_output, check_output_path, output_path
from sstfill.io.store import Store

FORMAT = "sstfill-training-state"
FORMAT_VERSION = 1
SUFFIX = ".resume"

# What a training state holds, with the types it must have.
STATE_KEYS = {"format_version": int, "settings": dict, "epoch": int, "seconds": float, "model": dict,
              "optimizer": dict, "scheduler": dict, "best": dict, "random": list}
BEST_KEYS = {"loss": float, "epoch": int, "rmse": float, "state": dict}


def state_path(model_path: Path) -> Path:
    """Where the training state of the run writing model_path is kept."""
    return model_path.with_name(model_path.name + SUFFIX)


def check_outputs(out: str | Path, stores: Sequence[str | Path], *, overwrite: bool,
                  resume: bool) -> tuple[Path, Path]:
    """The model file and the training state beside it, checked before anything is read or written."""
    state_file = state_path(output_path(out))
    if resume:
        require_state(state_file)
    if not (resume or overwrite) and state_file.is_file() and Path(out).exists():
        raise OutputError(f"output {out} already exists, with the training state of a stopped run beside it "
                          f"({state_file}); pass --resume to continue that run, --overwrite to start again, or "
                          "choose another name")
    # A resumed run goes on writing the model file of the run it continues.
    out = check_output_path(out, stores, overwrite=overwrite or resume)
    check_output_path(state_file, stores, overwrite=True)  # no other run writing it; stale temporaries removed
    return out, state_file


def run_settings(config: TrainConfig, model_config: ModelConfig, stores: list[Store], processes: int) -> dict:
    """What a resumed run must share with the stopped one: its settings, stores and number of processes."""
    return {"train": as_dict(config), "model": as_dict(model_config), "stores": [_store_identity(s) for s in stores],
            "processes": processes}


def _store_identity(store: Store) -> str:
    """A store's name and a digest of its shape and attributes (statistics, sources, creation time), which
    differ for another store of the same name and for the same store prepared again."""
    described = json.dumps({"shape": list(store.daily.shape), "attrs": store.attrs}, sort_keys=True,
                           default=lambda value: np.asarray(value).tolist())
    return f"{store.path.name} ({hashlib.sha256(described.encode()).hexdigest()[:12]})"


def random_state(device: torch.device) -> dict[str, Any]:
    """This process's random states, as plain values and tensors."""
    _, key, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (the global one, as seeded)
    return {"python": random.getstate(),
            "numpy": {"key": torch.from_numpy(key.astype(np.int64)), "position": int(position),
                      "has_gauss": int(has_gauss), "gauss": float(gauss)},
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def set_random_state(state: dict[str, Any], device: torch.device) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = state["numpy"]
    key = numpy["key"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", key, numpy["position"], numpy["has_gauss"], numpy["gauss"]))  # noqa: NPY002 (as saved)
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state["cuda"] is not None:  # a run moved between CPU and GPU keeps its seeding
        torch.cuda.set_rng_state(state["cuda"], device)


def training_state(*, settings: dict, epoch: int, seconds: float, model: torch.nn.Module,
                   optimizer: torch.optim.Optimizer, scheduler: Any, best: dict, random_states: list) -> dict:
    """The state at the end of an epoch, ready for save_state."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "sstfill_version": __version__, "settings": settings,
            "epoch": epoch, "seconds": float(seconds), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "best": dict(best),
            "random": random_states}


def save_state(path: Path, state: dict) -> None:
    """Write beside path and rename: a stop or a full disk during the write leaves the previous state whole."""
    with atomic_output(path) as part:
        try:
            torch.save(state, part)
        except (OSError, RuntimeError) as exc:  # torch's writer reports a failed write (a full disk) as RuntimeError
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "a failed write"
            raise OutputError(f"expected to write the training state {path}, found {reason}; check the free space "
                              f"and write permission in {path.parent} (the model file beside it holds the best model "
                              "so far)") from None


def require_state(path: Path) -> None:
    """Refuse to resume when there is no training state at path."""
    if not path.is_file():
        raise CheckpointError(f"expected the training state of a stopped run at {path}, found nothing; run without "
                              "--resume to start training (a run writes it at the end of each epoch and removes it "
                              "when training completes)")


def load_state(path: Path, settings: dict) -> dict:
    """The training state at path, checked, of a run with these settings."""
    require_state(path)
    again = "start again with --overwrite instead of --resume"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged, truncated or not a torch file: torch's reasons vary by version
        raise CheckpointError(f"could not read the training state {path} ({type(exc).__name__}); it is damaged or "
                              f"another kind of file: {again}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"expected an sstfill training state at {path}, found another kind of file; {again}")
    if isinstance(state.get("format_version"), int) and state["format_version"] > FORMAT_VERSION:
        raise CheckpointError(f"{path} has training-state format {state['format_version']}, this sstfill "
                              f"({__version__}) reads up to {FORMAT_VERSION}; resume with the sstfill that wrote it")
    for keys, values in ((STATE_KEYS, state), (BEST_KEYS, state.get("best") or {})):
        for key, kind in keys.items():
            if not isinstance(values.get(key), kind) or isinstance(values.get(key), bool):
                found = f"a {type(values[key]).__name__}" if key in values else "nothing"
                raise CheckpointError(f"expected {key} ({kind.__name__}) in the training state {path}, found {found}; "
                                      f"{again}")
    _check_same_run(state["settings"], settings, path)
    if len(state["random"]) != settings["processes"]:
        raise CheckpointError(f"expected random states for {settings['processes']} process(es) in {path}, found "
                              f"{len(state['random'])}; {again}")
    return state


def _check_same_run(saved: dict, now: dict, path: Path) -> None:
    """Refuse to resume a run of other settings, stores or number of processes: the weights would differ."""
    again = "start again with --overwrite instead of --resume"
    for group in ("train", "model"):
        for name, value in now[group].items():
            before = saved.get(group, {}).get(name)
            if before != value:
                raise CheckpointError(f"expected the settings of the stopped run to resume it, found --"
                                      f"{name.replace('_', '-')} {value!r} where {path} has {before!r}; pass the "
                                      f"same options as that run, or {again}")
    if saved.get("stores") != now["stores"]:
        raise CheckpointError(f"expected the stores of the stopped run, unchanged, to resume it "
                              f"({saved.get('stores')}), found {now['stores']}; pass the same stores, or {again}")
    if saved.get("processes") != now["processes"]:
        raise CheckpointError(f"expected {saved.get('processes')} training process(es) as in the stopped run, found "
                              f"{now['processes']}; start as many (torchrun --nproc_per_node, srun --ntasks), or "
                              f"{again}")


def restore(state: dict, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, rank: int,
            device: torch.device, path: Path) -> None:
    """Put the model, optimizer, scheduler and this process's random states back as they were at the end of
    the state's epoch; last, as nothing may draw random numbers between this and the next epoch."""
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        set_random_state(state["random"][rank], device)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"the training state {path} does not fit this model ({reason}); start again with "
                              "--overwrite instead of --resume") from None
