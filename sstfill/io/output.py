"""Safe output: never clobber an input, never leave a half-written file behind.

The output is written to a hidden temporary file beside the target (same directory, so
the final rename stays on one file system) and renamed over the target only when complete;
on any failure, or Ctrl-C, the temporary file is removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sstfill.errors import OutputError


def check_output_path(out: Path, inputs: list[Path], *, overwrite: bool) -> None:
    """Refuse an output that is an input, exists (without overwrite), is a directory or cannot be written."""
    if any(_same_file(out, Path(p)) for p in inputs):
        raise OutputError(f"expected an output path different from the inputs, found {out} among them; "
                          "choose another output name")
    if out.is_dir():
        raise OutputError(f"expected an output file name, found the directory {out}; name a file, "
                          f"e.g. {out / 'monthly.nc'}")
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} already exists; pass --overwrite to replace it or choose another name")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise OutputError(f"expected the output directory {out.parent} to exist, found nothing; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"expected a writable output directory, found {out.parent} not writable; "
                          "choose another output location")


def _same_file(a: Path, b: Path) -> bool:
    """The same file on disk, whatever the path (relative, symlink, hard link); inputs always exist."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


@contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; rename it to ``out`` if the block succeeds, else remove it.

    OS errors on the way (disk full, permissions) become OutputError.
    """
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.nc")  # beside the target: the rename stays on one file system
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:
        raise OutputError(f"could not write {out} ({type(exc).__name__}: {exc}); "
                          "check free disk space and permissions") from exc
    finally:
        tmp.unlink(missing_ok=True)
