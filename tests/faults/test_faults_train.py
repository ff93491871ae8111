"""Faults in training: absurd settings, diverged training, damaged stores, disk full on saving the model."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import pytest
from harness import Run, assert_ok, assert_refused, listing, sstfill

# A model and a run small enough to train in seconds on a CPU.
QUICK = ["--device", "cpu", "--epochs", "1", "--samples-per-epoch", "4", "--batch-size", "4", "--embed-dim", "16",
         "--depth", "1", "--tile-size", "32"]


def train(store: Path, out_dir: Path, *options) -> Run:
    """sstfill train on the quick settings; later options win over QUICK's."""
    return sstfill("train", store, "--out", out_dir / "model.pt", *QUICK, *options)


@pytest.mark.parametrize(("option", "value", "found"), [
    ("--epochs", "0", "found 0"),
    ("--batch-size", "0", "found 0"),
    ("--samples-per-epoch", "0", "found 0"),
    ("--months-per-window", "0", "found 0"),
    ("--embed-dim", "30", "found 30"),  # not a multiple of the 4 attention heads
    ("--learning-rate", "-1", "found -1.0"),
    ("--patience", "0", "found 0"),
    ("--validation-fraction", "1", "found 1.0"),  # no month left to train on
    ("--tile-size", "2", "found 2"),  # smaller than the model's 4-pixel patch
    ("--depth", "0", "found 0"),
    ("--workers", "-1", "found -1"),
])
def test_absurd_training_settings_are_refused(store, out_dir, option, value, found):
    assert_refused(train(store, out_dir, option, value), ["expected", option, found], out_dir)


@pytest.mark.slow
def test_training_that_diverges_from_the_start_writes_nothing(store, out_dir):
    # Several epochs: the one-cycle schedule of a single step runs it at a 250000th of the peak rate.
    run = train(store, out_dir, "--learning-rate", "1e4", "--epochs", "10")
    line = assert_refused(run, ["training to converge", "in epoch 1"], out_dir)
    assert "lower --learning-rate" in line and "no model was written" in line


def test_training_that_diverges_after_a_good_epoch_keeps_the_best_model(store, out_dir):
    # The one-cycle schedule starts at a 25th of the peak rate: a peak of 1 gives a sound first
    # epoch, then a validation RMSE hundreds of times that of the filled composite.
    run = train(store, out_dir, "--learning-rate", "1", "--epochs", "20")
    assert_ok(run)
    assert "training diverged in epoch 2" in run.stderr and "keeping the best model, from epoch 1" in run.stderr
    assert listing(out_dir) == ["model.pt"]
    from sstfill.checkpoint import load_model

    training = load_model(out_dir / "model.pt").training
    assert (training["best_epoch"], training["diverged_at_epoch"]) == (1, 2)


@pytest.mark.slow
def test_damaged_training_store_is_refused(store, out_dir, tmp_path):
    half = tmp_path / "half.nc"
    half.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    noise = tmp_path / "noise.nc"
    noise.write_bytes(os.urandom(50_000))
    attributes_only = tmp_path / "attributes_only.nc"
    with netCDF4.Dataset(store) as source, netCDF4.Dataset(attributes_only, "w") as copy:
        copy.setncatts({name: source.getncattr(name) for name in source.ncattrs()})
    no_target = tmp_path / "no_target.nc"
    with netCDF4.Dataset(store) as source, netCDF4.Dataset(no_target, "w") as copy:
        copy.setncatts({name: source.getncattr(name) for name in source.ncattrs()})
        for name, dimension in source.dimensions.items():
            copy.createDimension(name, len(dimension))
        for name, variable in source.variables.items():
            if name != "target":
                copy.createVariable(name, variable.dtype, variable.dimensions)[:] = variable[:]
    for damaged in (half, noise, attributes_only, no_target):
        assert_refused(train(damaged, out_dir), [str(damaged), "re-run 'sstfill prepare'"], out_dir)


def train_on_a_full_disk(store: Path, out_dir: Path, *options) -> Run:
    """sstfill train whose writes past 10 kB fail with EFBIG (Python ignores SIGXFSZ), as on a full disk."""
    limit = 10_000
    command = [sys.executable, "-m", "sstfill", "train", str(store), "--out", str(out_dir / "model.pt"), *QUICK,
               *options]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    return Run(command[3:], done.returncode, done.stdout, done.stderr)


@pytest.mark.slow
def test_disk_full_while_training_leaves_no_partial_model(store, tiny_model, out_dir):
    assert_refused(train_on_a_full_disk(store, out_dir), [str(out_dir / "model.pt")], out_dir)
    # Replacing a model on a full disk keeps the old one whole.
    shutil.copyfile(tiny_model, out_dir / "model.pt")
    assert_refused(train_on_a_full_disk(store, out_dir, "--overwrite"), [str(out_dir / "model.pt")], out_dir,
                   before=["model.pt"])
    assert (out_dir / "model.pt").read_bytes() == tiny_model.read_bytes()
