"""Logging set up once, by the CLI: stdlib logging to stderr, rich on a terminal."""

from __future__ import annotations

import logging
import os
import sys

from sstfill.progress import is_interactive, stderr_console


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of each record (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if is_interactive():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False, console=stderr_console())
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("sstfill").setLevel(level)
    job = slurm_job_name(os.environ)
    first_process = all(os.environ.get(name, "0") == "0" for name in ("SLURM_PROCID", "RANK"))  # srun, torchrun
    if job and first_process:
        logging.getLogger("sstfill").info("SLURM job %s", job)


def slurm_job_name(environ) -> str | None:
    """The job as squeue and sacct name it: ARRAYJOB_TASK for an array task (e.g. 4_1), else the job id."""
    array_job, task = environ.get("SLURM_ARRAY_JOB_ID"), environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and task:
        return f"{array_job}_{task}"
    return environ.get("SLURM_JOB_ID") or None
