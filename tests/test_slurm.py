"""The SLURM templates under a real SLURM, and the log line that names a SLURM job.

The tests marked `slurm` submit examples/slurm/ templates to a running SLURM, or to a single-node
one that ../shared/tools/slurm-local.sh starts on this machine (root, Debian); without either they
skip. Jobs run as this user on this machine, so they see this checkout and its `sstfill` command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from sstfill.logs import slurm_job_name

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "examples" / "slurm"
SAMPLE = REPO / "sample_data" / "daily_sst.nc"
SLURM_LOCAL = REPO.parent / "shared" / "tools" / "slurm-local.sh"
SSTFILL = Path(sys.executable).parent / "sstfill"
JOB_TIMEOUT_S = 150


@pytest.mark.parametrize(("environ", "expected"), [
    ({"SLURM_JOB_ID": "5", "SLURM_ARRAY_JOB_ID": "4", "SLURM_ARRAY_TASK_ID": "1"}, "4_1"),
    ({"SLURM_JOB_ID": "5"}, "5"),
    ({}, None),
])
def test_slurm_job_name(environ, expected):
    assert slurm_job_name(environ) == expected


def _slurm_responds() -> bool:
    if not shutil.which("sinfo"):
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def slurm():
    """A SLURM that takes jobs: the local single-node one (started if need be), else whatever answers sinfo."""
    if SLURM_LOCAL.exists():
        try:
            started = subprocess.run(["bash", str(SLURM_LOCAL)], capture_output=True, text=True, timeout=900)
            reason = (started.stderr or started.stdout).strip().splitlines()[-1:] or [f"exit {started.returncode}"]
        except (subprocess.TimeoutExpired, OSError) as exc:
            reason = [str(exc)]
    else:
        reason = [f"{SLURM_LOCAL} not found"]
    if not _slurm_responds():
        pytest.skip(f"no SLURM here and none could be started: {reason[0]}")
    if not SSTFILL.exists():
        pytest.skip(f"the jobs need the sstfill command beside {sys.executable}; pip install -e . first")


def submit(*args: str, cwd: Path, env: dict | None = None) -> str:
    """sbatch ARGS with this environment (sstfill on PATH, one CPU per task); the job id."""
    environment = {**os.environ, "PATH": f"{SSTFILL.parent}{os.pathsep}{os.environ['PATH']}",
                   "SSTFILL_PYTHON": sys.executable, **(env or {})}
    done = subprocess.run(["sbatch", "--parsable", "--export=ALL", "--cpus-per-task=1", "--mem=2G",
                           "--time=00:10:00", *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(";")[0]


def wait_for(job: str, timeout: float = JOB_TIMEOUT_S) -> list[dict[str, str]]:
    """Wait until every task of the job has ended; one record per task (JobState, ExitCode, StdOut, ...)."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True).stdout.strip():
        if time.monotonic() > deadline:
            subprocess.run(["scancel", job])
            pytest.fail(f"SLURM job {job} did not end within {timeout} s")
        time.sleep(1)
    shown = subprocess.run(["scontrol", "-o", "show", "job", job], capture_output=True, text=True, check=True)
    return [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in shown.stdout.splitlines()]


def wait_for_text(path: Path, text: str, timeout: float = JOB_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.5)


def log_report(records: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['JobId']} {r['JobState']} {r['ExitCode']}:\n{Path(r['StdOut']).read_text()}" for r in records)


@pytest.fixture(scope="module")
def month_array(slurm, tmp_path_factory):
    """The sample's 3 months as a 3-task array (1 CPU each, OMP_NUM_THREADS=2), and one run of all months."""
    root = tmp_path_factory.mktemp("slurm_array")
    single = subprocess.Popen([str(SSTFILL), "reconstruct", str(SAMPLE), str(root / "single.nc"), "--device", "cpu"],
                              env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.PIPE, text=True)
    job = submit("--array=0-2", "--output=%x-%A_%a.out", str(TEMPLATES / "reconstruct-months.sbatch"), str(SAMPLE),
                 str(root / "out"), cwd=root, env={"OMP_NUM_THREADS": "2", "SSTFILL_OPTIONS": "--device cpu"})
    records = wait_for(job)
    assert single.wait(timeout=JOB_TIMEOUT_S) == 0, single.stderr.read()
    return job, records, root


@pytest.mark.slurm
@pytest.mark.slow
def test_month_array_matches_a_single_run(month_array):
    _job, records, root = month_array
    assert sorted(r["ArrayTaskId"] for r in records) == ["0", "1", "2"]
    assert all(r["JobState"] == "COMPLETED" and r["ExitCode"] == "0:0" for r in records), log_report(records)
    months = sorted((root / "out").iterdir())
    assert [p.name for p in months] == [f"daily_sst_2021-0{m}.nc" for m in (1, 2, 3)]
    with xr.open_mfdataset(months) as split, xr.open_dataset(root / "single.nc") as single:
        np.testing.assert_array_equal(split["time"].values, single["time"].values)
        a, b = split["sst"].values, single["sst"].values
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.sqrt(np.nanmean((a - b) ** 2)) < 0.01


@pytest.mark.slurm
@pytest.mark.slow
def test_array_task_logs_name_the_task_and_its_cpus(month_array):
    job, records, _ = month_array
    for record in records:
        text = Path(record["StdOut"]).read_text()
        assert f"SLURM job {job}_{record['ArrayTaskId']}" in text, text
        assert "1 CPU thread (SLURM_CPUS_PER_TASK)" in text, text  # not OMP_NUM_THREADS=2
        assert "Traceback" not in text, text


@pytest.mark.slurm
@pytest.mark.slow
def test_sigterm_at_the_time_limit_leaves_no_file(slurm, tmp_path):
    """SLURM sends SIGTERM to every process of a job at its time limit, as scancel --full --signal=TERM does."""
    out = tmp_path / "out"
    log = tmp_path / "task.out"
    job = submit("--array=1", f"--output={log}", str(TEMPLATES / "reconstruct-months.sbatch"), str(SAMPLE), str(out),
                 "--", "--device", "cpu", "--adapt", "--adapt-seconds", "60", cwd=tmp_path)
    wait_for_text(log, "reconstructing 1 month(s)")
    time.sleep(1)
    subprocess.run(["scancel", "--full", "--signal=TERM", job], check=True)
    [record] = wait_for(job, timeout=60)
    text = log.read_text()
    errors = [line for line in text.splitlines() if line.startswith("sstfill: error: ")]
    assert errors == ["sstfill: error: stopped by SIGTERM before the end; no partial file is left"], text
    assert "Traceback" not in text, text
    assert record["ExitCode"] == "143:0", record
    assert list(out.iterdir()) == [], "no output, no temporary file"


@pytest.mark.slurm
@pytest.mark.slow
def test_year_array_prepares_one_store_per_year(slurm, tmp_path):
    from sstfill.testing import make_grid, synthetic_sst, write_netcdf

    lat, lon = make_grid(40.0, 44.0, -60.0, -54.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, start="2021-11-01", n_months=4, seed=5, cloud_cover=0.5)
    daily_file, truth_file = write_netcdf(daily, tmp_path / "daily.nc"), write_netcdf(truth, tmp_path / "truth.nc")
    job = submit("--array=0-1", "--output=%x-%A_%a.out", str(TEMPLATES / "prepare-years.sbatch"), str(daily_file),
                 str(tmp_path / "stores"), "--", "--target", str(truth_file), cwd=tmp_path)
    records = wait_for(job)
    assert all(r["JobState"] == "COMPLETED" and r["ExitCode"] == "0:0" for r in records), log_report(records)
    stores = sorted((tmp_path / "stores").iterdir())
    assert [p.name for p in stores] == ["daily_2021.nc", "daily_2022.nc"]
    for store, year in zip(stores, (2021, 2022), strict=True):
        with xr.open_dataset(store) as opened:
            assert set(opened["year"].values.tolist()) == {year}


def train_options(epochs: int = 30) -> list[str]:
    """A small model on small tiles: an epoch takes about half a second on one CPU."""
    return ["--device", "cpu", "--epochs", str(epochs), "--patience", "100", "--samples-per-epoch", "24",
            "--batch-size", "4", "--tile-size", "32", "--embed-dim", "16", "--depth", "1", "--seed", "7"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from sstfill.prepare import prepare
    from sstfill.testing import make_grid, synthetic_sst, write_netcdf

    root = tmp_path_factory.mktemp("slurm_store")
    lat, lon = make_grid(40.0, 48.0, -60.0, -50.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=4, seed=3, cloud_cover=0.6)
    return prepare([write_netcdf(daily, root / "daily.nc")], [write_netcdf(truth, root / "truth.nc")],
                   root / "store.nc")


def job_field(job: str, name: str) -> str:
    shown = subprocess.run(["scontrol", "-o", "show", "job", job], capture_output=True, text=True).stdout
    return dict(field.split("=", 1) for field in shown.split() if "=" in field).get(name, "")


def stop_a_training_job(store: Path, tmp_path: Path) -> tuple[str, Path, Path, subprocess.Popen]:
    """Submit train.sbatch, and beside it the same training without a stop; at epoch 3 send the USR1 that
    --signal=B:USR1@300 sends (to the batch script alone, as scancel --batch does); wait until the job has
    requeued itself. The job id, its log, the model path and the uninterrupted run."""
    uninterrupted = subprocess.Popen([str(SSTFILL), "train", str(store), "--out", str(tmp_path / "single.pt"),
                                      *train_options()], env={**os.environ, "OMP_NUM_THREADS": "1"},
                                     stderr=subprocess.PIPE, text=True)
    log, model = tmp_path / "train.out", tmp_path / "model.pt"
    job = submit("--gres=none", f"--output={log}", str(TEMPLATES / "train.sbatch"), str(model), str(store),
                 "--", *train_options(), cwd=tmp_path)
    wait_for_text(log, "epoch 3/30")
    subprocess.run(["scancel", "--batch", "--signal=USR1", job], check=True)
    deadline = time.monotonic() + 60
    while job_field(job, "Restarts") != "1" or job_field(job, "JobState") != "PENDING":
        assert time.monotonic() < deadline, f"job {job} was not requeued:\n{log.read_text()}"
        time.sleep(0.5)
    assert Path(f"{model}.resume").exists()
    assert "train.sbatch: training state saved" in log.read_text()
    return job, log, model, uninterrupted


def assert_resumed_as_uninterrupted(log: Path, record: dict[str, str], model: Path,
                                    uninterrupted: subprocess.Popen) -> None:
    from sstfill.checkpoint import load_model

    assert uninterrupted.wait(timeout=JOB_TIMEOUT_S) == 0, uninterrupted.stderr.read()
    text = log.read_text()
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", text
    resumed_at = re.search(r"resuming from the end of epoch (\d+) of 30", text)
    assert "going on from" in text and resumed_at and 3 <= int(resumed_at[1]) < 30, text  # the stop came after epoch 3
    assert "Traceback" not in text, text
    assert model.exists() and not Path(f"{model}.resume").exists()
    resumed = load_model(model).model.state_dict()
    single = load_model(model.with_name("single.pt")).model.state_dict()
    assert resumed.keys() == single.keys()
    assert all(torch.equal(resumed[name], single[name]) for name in single)


@pytest.mark.slurm
@pytest.mark.slow
def test_train_job_stopped_at_the_time_limit_resumes(slurm, store, tmp_path):
    """The job requeues itself; here it is submitted again at once (SLURM holds a requeued job for
    two minutes, see the next test), and finds the training state."""
    job, log, model, uninterrupted = stop_a_training_job(store, tmp_path)
    subprocess.run(["scancel", job], check=True)
    wait_for(job)
    again = submit("--gres=none", f"--output={log}", "--open-mode=append", str(TEMPLATES / "train.sbatch"),
                   str(model), str(store), "--", *train_options(), cwd=tmp_path)
    [record] = wait_for(again)
    assert_resumed_as_uninterrupted(log, record, model, uninterrupted)


@pytest.mark.slurm
@pytest.mark.slow
def test_requeued_train_job_resumes_by_itself(slurm, store, tmp_path):
    """As SLURM runs it: the requeued job starts again after SLURM's hold (about 2 minutes) and resumes."""
    job, log, model, uninterrupted = stop_a_training_job(store, tmp_path)
    [record] = wait_for(job, timeout=JOB_TIMEOUT_S + 180)
    assert record["Restarts"] == "1"
    assert_resumed_as_uninterrupted(log, record, model, uninterrupted)


@pytest.mark.slurm
@pytest.mark.slow
def test_train_job_on_two_processes_through_srun(slurm, store, tmp_path):
    """--ntasks-per-node=2: srun starts two processes that train together (DDP, gloo on CPU); rank 0 alone logs."""
    log, model = tmp_path / "train.out", tmp_path / "model.pt"
    job = submit("--gres=none", "--ntasks-per-node=2", f"--output={log}", str(TEMPLATES / "train.sbatch"), str(model),
                 str(store), "--", *train_options(epochs=3), cwd=tmp_path)
    [record] = wait_for(job)
    text = log.read_text()
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", text
    assert "training on 2 processes (srun, gloo backend)" in text, text
    assert text.count(f"SLURM job {job}") == 1 and text.count("epoch 3/3") == 1, text
    assert model.exists()
