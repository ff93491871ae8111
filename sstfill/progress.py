"""Progress reporting: a rich bar on a terminal, plain log lines in batch jobs.

A SLURM log full of carriage-return bar redraws is unreadable, so the bar is shown only
when stderr is a terminal; otherwise progress goes through logging every so often.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("sstfill")


def is_interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@functools.cache
def stderr_console():
    """The one rich console, on stderr, that bars and log lines share: stdout is for results (--json)."""
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def progress(total: int | None, description: str, *, log_every_s: float = 30.0) -> Iterator[Callable[[int], None]]:
    """A function advance(n) to call as work is done, shown as suits where the output goes."""
    if is_interactive():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True, console=stderr_console()) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)
        return
    done, last = 0, time.monotonic()

    def advance(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= log_every_s:
            share = f" ({done / total:.0%})" if total else ""
            log.info("%s: %d/%s%s", description, done, total if total is not None else "?", share)
            last = now

    yield advance


def track(items: Iterable[T], *, total: int | None = None, description: str = "working",
          log_every_s: float = 30.0) -> Iterator[T]:
    """Iterate over items, showing progress suited to where the output goes."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(total, description, log_every_s=log_every_s) as advance:
        for item in items:
            yield item
            advance(1)
