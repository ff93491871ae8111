"""sstfill in shell pipelines: one JSON line on stdout with --json, logs on stderr, -q/-v after the command,
'-' refused, exit codes in --help."""

from __future__ import annotations

import json

import pytest
from harness import assert_ok, assert_refused, listing, sstfill


@pytest.mark.slow
def test_json_summary_is_the_only_stdout(one_month, tiny_model, out_dir):
    out = out_dir / "monthly.nc"
    run = sstfill("reconstruct", one_month, out, "--model", tiny_model, "--device", "cpu", "--no-check", "--json")
    assert_ok(run)
    summary = json.loads(run.stdout)  # the whole of stdout is one JSON document
    assert len(run.stdout.strip().splitlines()) == 1
    assert summary["command"] == "reconstruct" and summary["output"] == str(out.resolve())
    assert summary["months"] == ["2021-01"] and summary["model_id"].startswith("tiny-")
    assert 0 < summary["observed_share"]["2021-01"] <= 1 and summary["seconds"] >= 0
    assert "INFO" in run.stderr  # logs still go to stderr

    store = out_dir / "store.nc"
    run = sstfill("prepare", one_month, "--out", store, "--json", "-q")
    assert_ok(run)
    assert json.loads(run.stdout) == {**json.loads(run.stdout), "command": "prepare", "output": str(store.resolve()),
                                      "months": ["2021-01"], "training_mode": "self-supervised"}
    assert run.stderr == ""  # -q after the command: warnings and errors only


@pytest.mark.slow
def test_quiet_and_verbose_after_the_command(one_month, out_dir):
    quiet = sstfill("prepare", one_month, "--out", out_dir / "a.nc", "-q")
    verbose = sstfill("prepare", one_month, "--out", out_dir / "b.nc", "--verbose")
    assert_ok(quiet)
    assert_ok(verbose)
    assert "INFO" not in quiet.stderr
    assert "DEBUG" in verbose.stderr


@pytest.mark.slow
def test_dash_is_refused_as_input_and_output(one_month, tiny_model, out_dir):
    run = sstfill("reconstruct", "-", out_dir / "m.nc", "--model", tiny_model)
    assert_refused(run, ["found '-'", "standard input"], out_dir)
    run = sstfill("reconstruct", one_month, "-", "--model", tiny_model, cwd=out_dir)
    assert_refused(run, ["found '-'", "standard output"], out_dir)
    assert listing(out_dir) == []


def test_exit_codes_are_documented():
    run = sstfill("--help")
    assert_ok(run)
    text = " ".join(run.stdout.split())
    for fragment in ("Exit status: 0", "1 bad input", "2 a usage error", "130 interrupted", "143: SIGTERM"):
        assert fragment in text


@pytest.mark.slow
def test_train_json_summary(store, out_dir):
    run = sstfill("train", store, "--out", out_dir / "m.pt", "--device", "cpu", "--epochs", "1", "--samples-per-epoch",
                  "4", "--batch-size", "4", "--embed-dim", "16", "--depth", "1", "--tile-size", "32", "--json", "-q")
    assert_ok(run)
    summary = json.loads(run.stdout)
    assert summary["command"] == "train" and summary["output"] == str((out_dir / "m.pt").resolve())
    assert summary["epochs_run"] == 1 and summary["model_id"].startswith("m-")
    assert "INFO" not in run.stderr
