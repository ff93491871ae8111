"""Safe output: never clobber an input, never leave a half-written file behind."""

from __future__ import annotations

import os
from pathlib import Path

from sstfill.errors import OutputError


def check_output_path(out: Path, inputs: list[Path], *, overwrite: bool) -> None:
    resolved = out.resolve()
    if any(resolved == Path(p).resolve() for p in inputs):
        raise OutputError(f"expected an output path different from the inputs, found {out} among them; choose another output name")
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} already exists; pass --overwrite to replace it or choose another name")
    if not out.parent.exists():
        raise OutputError(f"expected the output directory {out.parent} to exist, found nothing; create it first")


def temporary_path(out: Path) -> Path:
    """A temporary file beside the target, so the final rename stays on one file system."""
    return out.with_name(f".{out.name}.{os.getpid()}.tmp.nc")


def replace_atomically(tmp: Path, out: Path) -> None:
    os.replace(tmp, out)
