"""Progress reporting: a rich bar on a terminal, plain log lines in batch jobs.

A SLURM log full of carriage-return bar redraws is unreadable, so the bar is shown only
when stderr is a terminal; otherwise progress goes through logging every so often.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("sstfill")


def is_interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def track(items: Iterable[T], *, total: int | None = None, description: str = "working",
          log_every_s: float = 30.0) -> Iterator[T]:
    """Iterate over items, showing progress suited to where the output goes."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if is_interactive():
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(description, total=total)
            for item in items:
                yield item
                progress.advance(task)
        return
    last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= log_every_s:
            log.info("%s: %d/%s", description, done, total if total is not None else "?")
            last = now
