"""Resolve the compute device once: "auto" | "cpu" | "cuda" | "cuda:N" -> torch.device."""

from __future__ import annotations

import logging
import random

import numpy as np
import torch

from sstfill.errors import DeviceError

log = logging.getLogger(__name__)


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn a user's device choice into a torch.device.

    "auto" means CUDA when available, else CPU. Asking for CUDA where there is none is an
    error, never a silent fallback: a batch job that expected a GPU should fail loudly.
    """
    spec = spec.strip().lower()
    if spec == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(spec)
        except RuntimeError as exc:
            raise DeviceError(
                f"expected a device 'auto', 'cpu', 'cuda' or 'cuda:N', found {spec!r}; pass one of those to --device"
            ) from exc
        if device.type not in ("cpu", "cuda"):
            raise DeviceError(f"expected a CPU or CUDA device, found {spec!r}; use --device cpu or --device cuda")
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise DeviceError(
                    f"device {spec!r} was asked for but this machine has no usable CUDA GPU; "
                    "use --device cpu (or auto) or run on a GPU node"
                )
            count = torch.cuda.device_count()
            if device.index is not None and device.index >= count:
                raise DeviceError(
                    f"device {spec!r} was asked for but only {count} CUDA device(s) exist (cuda:0..cuda:{count - 1})"
                )
    if device.type == "cuda":
        log.info("using device %s (%s)", device, torch.cuda.get_device_name(device))
    else:
        log.info("using device cpu (%d threads)", torch.get_num_threads())
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
