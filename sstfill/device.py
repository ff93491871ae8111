"""Resolve the compute device once ("auto" | "cpu" | "cuda" | "cuda:N" -> torch.device), the CPU threads,
and how the model computes there: the arithmetic precision, the tiles per forward pass, the optimizer's kernel."""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Mapping

import numpy as np
import torch

from sstfill.config import DEVICE, check_precision
from sstfill.errors import DeviceError

log = logging.getLogger(__name__)


def resolve_device(spec: str = DEVICE) -> torch.device:
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
    configure_threads()
    if device.type == "cuda":
        log.info("using device %s (%s)", device, torch.cuda.get_device_name(device))
    else:
        log.info("using device cpu")
    return device


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}  # of config.PRECISIONS


def autocast(device: torch.device, precision: str):
    """The context the model runs in: torch.autocast to `precision` (config.PRECISIONS), or plain float32."""
    check_precision(precision)
    return torch.autocast(device.type, dtype=DTYPES[precision], enabled=precision != "fp32")


def training_precision(precision: str, device: torch.device) -> str:
    """The precision training runs in: `precision`, or for "auto" bf16 where `device` computes bfloat16
    natively (bf16_native), where the bundled model's recipe trained 1.34 times as fast on 2 CPU cores
    and as well (docs/research.md), and fp32 elsewhere."""
    if precision != "auto":
        return precision
    native = bf16_native(device)
    log.info("training in %s (--precision auto: %s)", "bf16" if native else "fp32",
             "bfloat16 is native here" if native else "no native bfloat16 here")
    return "bf16" if native else "fp32"


def bf16_native(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: a CUDA GPU from Ampere (compute capability 8) on,
    or an x86 CPU with AVX512-BF16 or AMX (elsewhere autocast would emulate it, slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's, absent from some versions
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def adamw(parameters, **settings) -> torch.optim.AdamW:
    """AdamW with its fused kernel where this torch has one for the parameters' device (on CPU 0.4 ms a
    training step of the default model, against 2.1 ms for its loop of kernels), else without."""
    parameters = list(parameters)
    try:
        return torch.optim.AdamW(parameters, fused=True, **settings)
    except RuntimeError:  # raised at construction, e.g. by torch versions without a fused CPU kernel
        return torch.optim.AdamW(parameters, **settings)


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host array on `device`; to a GPU through pinned memory, so the copy runs beside the computation."""
    tensor = torch.from_numpy(array)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def inference_batch_size(device: torch.device) -> int:
    """Tiles per forward pass when the user names none. On CPU, 4: the per-pixel layers' working set of a
    few tiles stays in the processor's cache, and more tiles make the whole pass slower
    (docs/research.md#speed-on-cpu). On CUDA, 8."""
    return 8 if device.type == "cuda" else 4


# Where the number of CPU threads comes from, first match wins: the CPUs SLURM gave the task, then the
# user's OpenMP setting, then the CPUs this process may run on (a cgroup or taskset limit included).
THREAD_VARIABLES = ("SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS")


def thread_budget(environ: Mapping[str, str] = os.environ) -> tuple[int, str]:
    """How many CPU threads this process should use, and why (for the log)."""
    count, reason = None, ""
    for name in THREAD_VARIABLES:
        text = environ.get(name, "").strip()
        if not text:
            continue
        # OMP_NUM_THREADS may list one count per nesting level ("4,2"); the first is the outer one.
        first = text.split(",")[0].strip()
        if first.isdigit() and int(first) > 0:
            count, reason = int(first), name
            break
        log.warning("ignoring %s=%r: expected a positive whole number of threads", name, text)
    if count is None:
        count, reason = _usable_cpus(), "CPU affinity"
    # torchrun starts its local processes inside one task, on that task's CPUs, so they share them;
    # OMP_NUM_THREADS already counts the threads of one process (torchrun itself sets it so).
    shared_by = 1 if reason == "OMP_NUM_THREADS" else _local_processes(environ)
    if shared_by > 1:
        return max(1, count // shared_by), f"{reason} shared by {shared_by} local processes"
    return count, reason


_logged_budget: tuple[int, str] | None = None  # what the log last said, so that each process says it once


def configure_threads(environ: Mapping[str, str] = os.environ) -> int:
    """Set the thread counts of torch, the BLAS libraries and dask from thread_budget; log how many and why."""
    global _logged_budget
    import dask
    from threadpoolctl import threadpool_limits

    count, reason = thread_budget(environ)
    torch.set_num_threads(count)
    if torch.get_num_interop_threads() > count:
        # torch allows this once, before any inter-op work has started; keep what is set then
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(count)
    threadpool_limits(limits=count, user_api="blas")
    dask.config.set(num_workers=count)  # the pool that reads the lazy inputs
    if _logged_budget != (count, reason):
        log.info("%d CPU thread%s (%s)", count, "" if count == 1 else "s", reason)
        _logged_budget = (count, reason)
    return count


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _local_processes(environ: Mapping[str, str]) -> int:
    """How many processes torchrun started on this node (1 outside torchrun: srun gives each task its own CPUs)."""
    if "TORCHELASTIC_RUN_ID" not in environ:
        return 1
    text = environ.get("LOCAL_WORLD_SIZE", "1").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 1


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global generator that code drawing without a Generator uses)
    torch.manual_seed(seed)
