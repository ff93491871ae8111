"""Training stopped by a signal (a batch job's time limit) and resumed ends with the weights of an uninterrupted run.

The stops drive the real CLI in a subprocess, as SLURM does: SIGTERM once the log says an epoch ended.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from faults.harness import Run, assert_ok, assert_refused, listing, sstfill, start
from sstfill.checkpoint import load_model
from sstfill.config import ModelConfig, TrainConfig
from sstfill.errors import CheckpointError
from sstfill.io.store import open_store
from sstfill.training_state import (
    load_state,
    random_state,
    run_settings,
    save_state,
    set_random_state,
    state_path,
    training_state,
)

# Four epochs: the one-cycle schedule spans them all, so a shorter run is not the same as a stopped one.
QUICK = ["--device", "cpu", "--epochs", "4", "--samples-per-epoch", "8", "--batch-size", "4", "--embed-dim", "16",
         "--depth", "1", "--tile-size", "32"]


@pytest.fixture
def out_dir(tmp_path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture(scope="module")
def uninterrupted(store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "model.pt"
    assert_ok(sstfill("train", store, "--out", out, *QUICK))
    return out


def stop_when_logged(store: Path, out: Path, logged: str) -> Run:
    """sstfill train, sent SIGTERM as soon as a line of its log holds `logged`, run to its end."""
    process = start("train", store, "--out", out, *QUICK)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if logged in line:
            process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    finally:
        process.kill()
    return Run(["train", str(store), "--out", str(out), *QUICK], process.returncode, process.stdout.read(),
               "".join(lines))


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_model(path).model.state_dict()


@pytest.mark.slow
def test_a_run_stopped_after_an_epoch_and_resumed_ends_with_the_weights_of_an_uninterrupted_one(store, uninterrupted,
                                                                                                tmp_path):
    out = tmp_path / "model.pt"
    stopped = stop_when_logged(store, out, "epoch 1/4")
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert "run the same command with --resume" in stopped.stderr
    assert listing(tmp_path) == ["model.pt", "model.pt.resume"]  # the best model so far, and the training state
    state = torch.load(out.with_name("model.pt.resume"), weights_only=True)
    assert state["epoch"] in (1, 2, 3)  # the signal comes during epoch 2 (or, on a slow machine, later)

    # Rerunning without --resume, or with other settings, is refused and changes nothing.
    before = {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)}
    assert_refused(sstfill("train", store, "--out", out, *QUICK), ["pass --resume", "--overwrite"], tmp_path,
                   before=list(before))
    line = assert_refused(sstfill("train", store, "--out", out, *QUICK, "--resume", "--learning-rate", "0.002"),
                          ["--learning-rate 0.002", "model.pt.resume has 0.001"], tmp_path, before=list(before))
    assert "start again with --overwrite" in line
    assert {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)} == before

    resumed = sstfill("train", store, "--out", out, *QUICK, "--resume")
    assert_ok(resumed)
    assert f"resuming from the end of epoch {state['epoch']} of 4" in resumed.stderr
    assert listing(tmp_path) == ["model.pt"]  # the training state is removed once training completes
    expected, found = weights(uninterrupted), weights(out)
    assert expected.keys() == found.keys()
    assert all(torch.equal(expected[name], found[name]) for name in expected)
    assert load_model(out).training["resumed_from_epoch"] == state["epoch"]


def test_a_run_stopped_in_its_first_epoch_leaves_nothing_and_says_so(store, tmp_path):
    stopped = stop_when_logged(store, tmp_path / "model.pt", "training on 1 store(s)")
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
    assert "before any epoch ended: nothing to resume" in stopped.stderr
    assert listing(tmp_path) == []


@pytest.mark.slow
def test_a_full_disk_while_writing_the_training_state_is_refused_cleanly(store, uninterrupted, tmp_path):
    # Room for the model file but not for the training state, which holds two models and the optimizer's moments.
    limit = int(1.5 * uninterrupted.stat().st_size)
    command = [sys.executable, "-m", "sstfill", "train", str(store), "--out", str(tmp_path / "model.pt"), *QUICK]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    line = assert_refused(Run(command[3:], done.returncode, done.stdout, done.stderr),
                          ["expected to write the training state", "model.pt.resume", "free space"])
    assert "best model so far" in line
    assert listing(tmp_path) == ["model.pt"]  # no temporary file left


def test_resume_without_a_training_state_is_refused(store, out_dir):
    line = assert_refused(sstfill("train", store, "--out", out_dir / "model.pt", *QUICK, "--resume"),
                          ["expected the training state of a stopped run", "model.pt.resume", "found nothing",
                           "run without --resume"], out_dir)
    assert line.count("sstfill: error:") == 1


# Unit tests of the training state, without the CLI.

@pytest.fixture(scope="module")
def opened(store):
    return open_store(store)


def test_random_states_are_restored_exactly():
    device = torch.device("cpu")
    state = random_state(device)
    # numpy's global generator, not a Generator: the training state restores the global one.
    drawn = (np.random.random(3), torch.rand(3), __import__("random").random())  # noqa: NPY002
    set_random_state(state, device)
    again = (np.random.random(3), torch.rand(3), __import__("random").random())  # noqa: NPY002
    assert np.array_equal(drawn[0], again[0]) and torch.equal(drawn[1], again[1]) and drawn[2] == again[2]


def small_state(opened, settings: dict) -> dict:
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=20)
    best = {"loss": 1.5, "epoch": 1, "rmse": 0.3, "state": {k: v.clone() for k, v in model.state_dict().items()}}
    return training_state(settings=settings, epoch=1, seconds=2.0, model=model, optimizer=optimizer,
                          scheduler=scheduler, best=best, random_states=[random_state(torch.device("cpu"))])


def test_the_training_state_loads_without_executing_code_and_refuses_another_run(opened, tmp_path):
    settings = run_settings(TrainConfig(), ModelConfig(), [opened], 1)
    path = state_path(tmp_path / "model.pt")
    save_state(path, small_state(opened, settings))
    assert listing(tmp_path) == ["model.pt.resume"]  # no temporary file left
    torch.load(path, weights_only=True)
    assert load_state(path, settings)["epoch"] == 1
    with pytest.raises(CheckpointError, match=r"found --seed 1 where .* has 0"):
        load_state(path, run_settings(TrainConfig(seed=1), ModelConfig(), [opened], 1))
    with pytest.raises(CheckpointError, match="--embed-dim 32 where"):
        load_state(path, run_settings(TrainConfig(), ModelConfig(embed_dim=32), [opened], 1))
    with pytest.raises(CheckpointError, match="expected 1 training process"):
        load_state(path, run_settings(TrainConfig(), ModelConfig(), [opened], 2))
    prepared_again = dataclasses.replace(opened, attrs={**opened.attrs, "history": "prepared again"})
    with pytest.raises(CheckpointError, match="expected the stores of the stopped run, unchanged"):
        load_state(path, run_settings(TrainConfig(), ModelConfig(), [prepared_again], 1))


def test_a_damaged_training_state_is_refused(opened, tmp_path):
    settings = run_settings(TrainConfig(), ModelConfig(), [opened], 1)
    path = tmp_path / "model.pt.resume"
    save_state(path, small_state(opened, settings))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"could not read the training state .* damaged"):
        load_state(path, settings)
    torch.save({"format": "sstfill-training-state", "format_version": 1, "epoch": "one"}, path)
    with pytest.raises(CheckpointError, match=r"expected settings \(dict\)"):
        load_state(path, settings)
