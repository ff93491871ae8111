"""sstfill.device: a device name resolved or refused; CPU threads follow SLURM_CPUS_PER_TASK, then OMP_NUM_THREADS,
then the CPU affinity, and the log says which."""

import logging
import os
import subprocess
import sys

import pytest
import torch

from sstfill.device import adamw, configure_threads, resolve_device, thread_budget
from sstfill.errors import DeviceError
from sstfill.testing import make_grid, synthetic_sst, write_netcdf

AFFINITY = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="expected a device"):
        resolve_device("tpu:0")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA"):
            resolve_device("cuda:1")


@pytest.fixture
def restore_threads():
    import dask
    from threadpoolctl import threadpool_info, threadpool_limits

    threads, workers = torch.get_num_threads(), dask.config.get("num_workers", None)
    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    yield
    torch.set_num_threads(threads)
    dask.config.set(num_workers=workers)
    if blas:
        threadpool_limits(limits=blas[0], user_api="blas")


@pytest.mark.parametrize(("environ", "expected"), [
    ({"SLURM_CPUS_PER_TASK": "3", "OMP_NUM_THREADS": "5"}, (3, "SLURM_CPUS_PER_TASK")),
    ({"OMP_NUM_THREADS": "5"}, (5, "OMP_NUM_THREADS")),
    ({"OMP_NUM_THREADS": "4,2"}, (4, "OMP_NUM_THREADS")),
    ({}, (AFFINITY, "CPU affinity")),
])
def test_thread_budget_order(environ, expected):
    assert thread_budget(environ) == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", " "])
def test_thread_budget_skips_an_unusable_value(value, caplog):
    with caplog.at_level(logging.WARNING, logger="sstfill"):
        assert thread_budget({"SLURM_CPUS_PER_TASK": value, "OMP_NUM_THREADS": "2"}) == (2, "OMP_NUM_THREADS")
    assert ("ignoring SLURM_CPUS_PER_TASK" in caplog.text) == bool(value.strip())


def test_torchrun_processes_share_the_task_cpus():
    torchrun = {"TORCHELASTIC_RUN_ID": "x", "LOCAL_WORLD_SIZE": "2"}
    shared = (4, "SLURM_CPUS_PER_TASK shared by 2 local processes")
    assert thread_budget({**torchrun, "SLURM_CPUS_PER_TASK": "8"}) == shared
    assert thread_budget({**torchrun, "SLURM_CPUS_PER_TASK": "1"})[0] == 1
    # OMP_NUM_THREADS is per process already; srun (no torchrun) gives each task its own CPUs.
    assert thread_budget({**torchrun, "OMP_NUM_THREADS": "3"}) == (3, "OMP_NUM_THREADS")
    assert thread_budget({"LOCAL_WORLD_SIZE": "2", "SLURM_CPUS_PER_TASK": "8"}) == (8, "SLURM_CPUS_PER_TASK")


def test_configure_threads_sets_torch_blas_dask_and_logs_once(restore_threads, caplog):
    import dask
    from threadpoolctl import threadpool_info

    with caplog.at_level(logging.INFO, logger="sstfill"):
        assert configure_threads({"SLURM_CPUS_PER_TASK": "1"}) == 1
        configure_threads({"SLURM_CPUS_PER_TASK": "1"})
    assert torch.get_num_threads() == 1
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    assert dask.config.get("num_workers") == 1
    assert caplog.text.count("1 CPU thread (SLURM_CPUS_PER_TASK)") == 1
    configure_threads({"SLURM_CPUS_PER_TASK": "2"})
    assert torch.get_num_threads() == 2


def test_cli_under_a_slurm_task_with_one_cpu(tmp_path):
    """A reconstruct run as an array task given 1 CPU: 1 thread despite OMP_NUM_THREADS, and the array task named."""
    lat, lon = make_grid(40.0, 44.0, -60.0, -56.0, 0.25)
    daily, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=1, seed=1, cloud_cover=0.5)
    source = write_netcdf(daily, tmp_path / "daily.nc")
    slurm = {"SLURM_JOB_ID": "5", "SLURM_ARRAY_JOB_ID": "4", "SLURM_ARRAY_TASK_ID": "1", "SLURM_CPUS_PER_TASK": "1",
             "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-m", "sstfill", "reconstruct", str(source), str(tmp_path / "out.nc"),
                           "--no-check", "--device", "cpu"], env={**os.environ, **slurm}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 CPU thread (SLURM_CPUS_PER_TASK)" in done.stderr
    assert "SLURM job 4_1" in done.stderr
    assert "SLURM job 5" not in done.stderr


def test_adamw_uses_the_fused_kernel_where_torch_has_one_and_steps_as_the_plain_one(monkeypatch):
    weights = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(3))]
    fused = adamw(weights, lr=0.1, weight_decay=0.01)
    assert fused.defaults["fused"]  # this CPU build of torch has the kernel
    twins = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    plain = torch.optim.AdamW(twins, lr=0.1, weight_decay=0.01)
    for _ in range(3):
        for w, t in zip(weights, twins, strict=True):
            w.grad = torch.full_like(w, 0.5)
            t.grad = torch.full_like(t, 0.5)
        fused.step()
        plain.step()
    for w, t in zip(weights, twins, strict=True):
        torch.testing.assert_close(w, t)

    real = torch.optim.AdamW

    def refuses_fused(params, fused=None, **settings):
        if fused:
            raise RuntimeError("`fused=True` requires all the params to be on a supported device")
        return real(params, **settings)

    monkeypatch.setattr(torch.optim, "AdamW", refuses_fused)
    fallback = adamw(iter(weights), lr=0.1)  # a generator, as model.parameters() gives, is read once
    assert not fallback.defaults["fused"] and len(fallback.param_groups[0]["params"]) == 2
