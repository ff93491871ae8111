"""Training on several processes (PyTorch DDP on CPU, gloo), started by torchrun as a user does."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

from faults.harness import Run, assert_ok, listing, sstfill
from sstfill.checkpoint import load_model
from sstfill.data.dataset import Normalisation, TileDataset, Window
from sstfill.distributed import SINGLE, Processes, first_host, from_environment
from sstfill.errors import InputError
from sstfill.io.store import open_store

QUICK = ["--device", "cpu", "--epochs", "3", "--samples-per-epoch", "8", "--embed-dim", "16", "--depth", "1",
         "--tile-size", "32"]
EPOCH_LINE = re.compile(r"epoch (\d+)/\d+: train NLL (\S+), validation NLL (\S+), RMSE (\S+) K")


def torchrun(processes: int, *args) -> Run:
    """python -m torch.distributed.run --standalone (a free port) --nproc_per_node N -m sstfill ARGS."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
               "-m", "sstfill", *map(str, args)]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=300)
    return Run(command[3:], done.returncode, done.stdout, done.stderr)


def losses(log: str) -> dict[int, tuple[float, float, float]]:
    """{epoch: (train NLL, validation NLL, validation RMSE)} from a training log; each epoch logged once."""
    found = [(int(epoch), tuple(map(float, values))) for epoch, *values in EPOCH_LINE.findall(log)]
    assert len({epoch for epoch, _ in found}) == len(found), f"an epoch logged twice:\n{log}"
    return dict(found)


@pytest.mark.slow
def test_two_processes_train_on_their_shares_and_match_a_single_process(store, tmp_path):
    # Two processes of 4 tiles a step take the steps one process of 8 tiles takes, on the same tiles.
    (tmp_path / "ddp").mkdir()
    (tmp_path / "single").mkdir()
    ddp = torchrun(2, "train", store, "--out", tmp_path / "ddp" / "model.pt", *QUICK, "--batch-size", "4")
    assert_ok(ddp)
    single = sstfill("train", store, "--out", tmp_path / "single" / "model.pt", *QUICK, "--batch-size", "8")
    assert_ok(single)

    assert "training on 2 processes (torchrun, gloo backend)" in ddp.stderr
    assert "each of the 2 processes draws 4 of the 8 tiles of an epoch; a step averages 8 tiles" in ddp.stderr
    # Rank 0 alone logs (each line once) and writes: the model file, and no training state once done.
    assert ddp.stderr.count("training on 1 store(s)") == 1 and ddp.stderr.count("wrote ") == 1
    assert listing(tmp_path / "ddp") == ["model.pt"]
    assert load_model(tmp_path / "ddp" / "model.pt").training["processes"] == 2

    # Both runs take the same steps on the same tiles, from the same initial weights. They differ only
    # in what DDP does not share: dropout masks (each process has its own), batch-norm statistics of 4
    # tiles instead of 8, and a loss averaged in each process and then over the two. On this tiny run
    # the first epoch's training loss (one step, at the initial weights) moves by 1.4e-3 of itself
    # (9e-4 from the averaging alone, measured without batch norm and dropout), so allow 3e-3; the
    # validation losses move by at most 4e-4 (the RMSE is logged to 4 digits), so allow 1e-3. Both
    # processes drawing the same tiles moves the first epoch's training loss by 6%; a process
    # validating only its own half of the validation tiles moves the validation loss by 5e-3.
    ddp_losses, single_losses = losses(ddp.stderr), losses(single.stderr)
    assert sorted(ddp_losses) == sorted(single_losses) == [1, 2, 3]
    assert ddp_losses[1][0] == pytest.approx(single_losses[1][0], rel=3e-3)  # later epochs' weights differ more
    for epoch in ddp_losses:
        assert ddp_losses[epoch][1:] == pytest.approx(single_losses[epoch][1:], rel=1e-3), (ddp_losses, single_losses)


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, SINGLE),
    ({"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}, Processes(1, 4, 1, "torchrun")),
    ({"SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "4", "SLURM_LOCALID": "1", "SLURM_NTASKS": "4"},
     Processes(3, 4, 1, "srun")),
    # a batch script itself is one process, whatever the job's task count
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0"}, SINGLE),
    # torchrun started by srun: torchrun's variables win
    ({"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2",
      "SLURM_LOCALID": "0"}, Processes(5, 8, 1, "torchrun")),
])
def test_the_processes_come_from_torchrun_or_srun(environ, expected):
    assert from_environment(environ) == expected


@pytest.mark.parametrize("environ", [{"WORLD_SIZE": "2"}, {"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"},
                                     {"RANK": "x", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}])
def test_an_inconsistent_launcher_environment_is_refused(environ):
    with pytest.raises(InputError, match=r"expected .*; start the processes with torchrun or srun"):
        from_environment(environ)


@pytest.mark.parametrize(("nodelist", "host"), [("localhost", "localhost"), ("node1,node2", "node1"),
                                            ("gpu[07-09,12],cpu1", "gpu07"), ("n[3,1]-ib", "n3-ib"),
                                            ("rack[1-2]-n[01-04]", "rack1-n01")])
def test_the_rendezvous_host_is_the_first_of_the_slurm_node_list(nodelist, host):
    assert first_host(nodelist) == host


def test_each_process_draws_its_own_tiles_and_together_those_of_one_process(store):
    opened = open_store(store)
    norm = Normalisation(0.0, 1.0, 0.0, 1.0)
    tiles = TileDataset([opened], [Window(0, (0,)), Window(0, (1,))], 32, norm, random=True, samples=7, seed=3)
    shares = [tiles.share(rank, 2) for rank in range(2)]
    assert len(shares[0]) == len(shares[1]) == 4  # as many steps in each process
    assert set(shares[0]).isdisjoint(shares[1]) and set(range(7)) <= set(shares[0]) | set(shares[1])
    first = tiles[shares[1][0]]
    assert not torch.equal(tiles[shares[0][0]]["x"], first["x"])
    validation_tiles = TileDataset([opened], [Window(0, (3,))], 32, norm, random=False)
    shares = [validation_tiles.share(rank, 3) for rank in range(3)]
    # each validation tile once
    assert sorted(tile for share in shares for tile in share) == list(range(len(validation_tiles)))
