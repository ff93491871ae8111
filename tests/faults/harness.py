"""The fault suite's harness: the real CLI in a subprocess, as a user or a cluster runs it.

A fault ends either in a correct result or in a clean refusal: a non-zero exit, one line
``sstfill: error: ...`` saying what was expected, what was found and what to do, no
traceback, and nothing new in the output directory (not even a temporary file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLI_TIMEOUT_S = 300


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("sstfill: error: ")]


def sstfill(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = CLI_TIMEOUT_S) -> Run:
    """Run ``python -m sstfill ARGS`` to the end and return what it printed."""
    command = [sys.executable, "-m", "sstfill", *map(str, args)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    return Run(command[3:], done.returncode, done.stdout, done.stderr)


def start(*args, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m sstfill ARGS`` in the background (signals, concurrency)."""
    command = [sys.executable, "-m", "sstfill", *map(str, args)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def listing(directory: Path) -> list[str]:
    """Every name in a directory, hidden ones included."""
    return sorted(p.name for p in directory.iterdir())


def assert_refused(run: Run, fragments: list[str], directory: Path | None = None, before: list[str] = (),
                   code: int = 1) -> str:
    """A clean refusal: exit code, one error line holding every fragment, no traceback, nothing new written."""
    report = f"{run.args}\nexit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == code, report
    assert "Traceback" not in run.stderr + run.stdout, report
    assert len(run.error_lines) == 1, report
    for fragment in fragments:
        assert fragment in run.error_lines[0], f"{fragment!r} not in {run.error_lines[0]!r}"
    assert "weights_only=False" not in run.stderr, "never nudge a user toward unsafe loading"
    if directory is not None:
        assert listing(directory) == sorted(before), "nothing written, no temporary file left"
    return run.error_lines[0]


def assert_ok(run: Run) -> None:
    report = f"{run.args}\nexit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, report
    assert "Traceback" not in run.stderr, report
