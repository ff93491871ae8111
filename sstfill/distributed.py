"""Training on several processes with PyTorch DDP, started by torchrun or by srun under SLURM.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. srun sets SLURM_PROCID,
SLURM_STEP_NUM_TASKS and SLURM_LOCALID; the rendezvous is then the first host of the step's
nodes. A batch script itself has SLURM_NTASKS but is one process, so only a step's task count
counts. Without either launcher there is one process and nothing here changes what training does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from sstfill.device import resolve_device
from sstfill.errors import DeviceError, InputError

log = logging.getLogger(__name__)

DEFAULT_PORT = 29500  # torchrun's default; under srun a job adds its id modulo PORT_SPREAD
PORT_SPREAD = 1000  # so that two jobs sharing a node seldom pick the same port


@dataclass(frozen=True)
class Processes:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0  # index among the processes of this node: the GPU it takes
    launcher: str = ""  # "torchrun", "srun" or "" (one process)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone logs and writes."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


SINGLE = Processes()

# (rank, world size, local rank) as each launcher names them
_VARIABLES = {"torchrun": ("RANK", "WORLD_SIZE", "LOCAL_RANK"),
              "srun": ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID")}


def from_environment(environ: Mapping[str, str] = os.environ) -> Processes:
    """The processes torchrun or srun started, from their environment variables; SINGLE without them."""
    if "WORLD_SIZE" in environ:  # torchrun, also when srun started torchrun
        launcher = "torchrun"
    elif "SLURM_STEP_NUM_TASKS" in environ:
        launcher = "srun"
    else:
        return SINGLE
    rank, world_size, local_rank = (_whole_number(environ, name, launcher) for name in _VARIABLES[launcher])
    if world_size < 1 or rank >= world_size:
        raise InputError(f"expected a rank below the number of processes, found rank {rank} of {world_size} "
                         f"({', '.join(_VARIABLES[launcher][:2])}); start the processes with torchrun or srun")
    return Processes(rank, world_size, local_rank, launcher)


def _whole_number(environ: Mapping[str, str], name: str, launcher: str) -> int:
    text = environ.get(name, "").strip()
    if not text.isdigit():
        raise InputError(f"expected a whole number in the environment variable {name} (set by {launcher}), found "
                         f"{text!r}; start the processes with torchrun or srun, or unset WORLD_SIZE to train in one")
    return int(text)


def first_host(nodelist: str) -> str:
    """The first host of a SLURM node list: 'gpu[07-09,12],cpu1' -> 'gpu07'."""
    host, i = [], 0
    while i < len(nodelist) and nodelist[i] != ",":
        if nodelist[i] == "[":
            end = nodelist.index("]", i)
            host.append(re.split(r"[,-]", nodelist[i + 1:end])[0])
            i = end + 1
        else:
            host.append(nodelist[i])
            i += 1
    return "".join(host).strip()


def process_device(spec: str, processes: Processes) -> torch.device:
    """The device of this process: resolve_device's, except that each of several processes takes cuda:LOCAL_RANK."""
    device = resolve_device(spec)
    if not processes.distributed or device.type != "cuda":
        return device
    if spec.strip().lower() not in ("auto", "cuda"):
        raise DeviceError(f"expected --device auto or cuda when training on several processes (each takes the GPU "
                          f"of its local rank), found {spec!r}; choose the GPUs with CUDA_VISIBLE_DEVICES")
    count = torch.cuda.device_count()
    # srun --gpus-per-task gives each task one visible GPU, whatever its local rank.
    index = processes.local_rank if processes.local_rank < count else 0 if count == 1 else None
    if index is None:
        raise DeviceError(f"expected a GPU for each process of this node, found {count} GPU(s) for local rank "
                          f"{processes.local_rank}; start at most {count} processes per node")
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


@contextmanager
def process_group(processes: Processes, device: torch.device,
                  environ: MutableMapping[str, str] = os.environ) -> Iterator[None]:
    """Join the other processes for the block (gloo on CPU, nccl on CUDA); nothing with one process."""
    if not processes.distributed:
        yield
        return
    if processes.launcher == "srun":
        nodes = environ.get("SLURM_STEP_NODELIST") or environ.get("SLURM_JOB_NODELIST", "localhost")
        environ.setdefault("MASTER_ADDR", first_host(nodes))
        job = environ.get("SLURM_JOB_ID", "")
        environ.setdefault("MASTER_PORT", str(DEFAULT_PORT + (int(job) % PORT_SPREAD if job.isdigit() else 0)))
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        dist.init_process_group(backend, init_method="env://", rank=processes.rank, world_size=processes.world_size)
    except (RuntimeError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise DeviceError(f"expected to join {processes.world_size} training processes at "
                          f"{environ.get('MASTER_ADDR')}:{environ.get('MASTER_PORT')}, found an error ({reason}); "
                          "check MASTER_ADDR and MASTER_PORT, or that the port is free") from None
    log.info("training on %d processes (%s, %s backend)", processes.world_size, processes.launcher, backend)
    try:
        yield
    except BaseException as exc:
        dist.destroy_process_group()
        if isinstance(exc, RuntimeError) and _lost_contact(exc):
            reason = " ".join(str(exc).split())[:200]
            raise DeviceError(f"expected all {processes.world_size} training processes to go on, found that process "
                              f"{processes.rank} lost contact with another ({reason}); the first error in the log, "
                              "of another process, says why") from None
        raise
    # All end together: a group torn down while another process still uses it can hang or abort.
    dist.barrier()
    dist.destroy_process_group()


def _lost_contact(exc: RuntimeError) -> bool:
    """Whether a collective failed because another process ended (gloo says so; NCCL times out)."""
    return isinstance(exc, dist.DistError) or "by peer" in str(exc)


def quiet_unless_main(processes: Processes) -> None:
    """Rank 0 logs; the others only their warnings and errors."""
    if not processes.is_main:
        logger = logging.getLogger("sstfill")
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))


def wrap(model: torch.nn.Module, processes: Processes, device: torch.device) -> torch.nn.Module:
    """The module training steps go through: DDP, which averages the gradients of all processes, or the model.

    Drop it before process_group's block ends: its reducer holds the group, and ending the group
    first can hang on releasing it."""
    if not processes.distributed:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def all_sum(values: list[float], processes: Processes, device: torch.device) -> list[float]:
    """The sums over all processes of each value (the values themselves with one process)."""
    if not processes.distributed:
        return values
    totals = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(totals)
    return totals.tolist()


def all_true(flag: bool, processes: Processes, device: torch.device) -> bool:
    """Whether flag holds in every process, so that all take the same branch (a step, or a stop)."""
    if not processes.distributed:
        return flag
    return all_sum([0.0 if flag else 1.0], processes, device)[0] == 0.0


def share_buffers(model: torch.nn.Module, processes: Processes) -> None:
    """Give every process rank 0's buffers (batch-norm statistics), so that all hold the model rank 0 writes."""
    if processes.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def gather(value: Any, processes: Processes) -> list[Any]:
    """Every process's value, in rank order (a list of one with one process)."""
    if not processes.distributed:
        return [value]
    values: list[Any] = [None] * processes.world_size
    dist.all_gather_object(values, value)
    return values
