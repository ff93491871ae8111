"""Logging set up once, by the CLI: stdlib logging to stderr, rich on a terminal."""

from __future__ import annotations

import logging
import os
import sys

from sstfill.progress import is_interactive


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

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("sstfill").setLevel(level)
    job = os.environ.get("SLURM_JOB_ID")
    if job:
        logging.getLogger("sstfill").info("SLURM job %s", job)
