"""Safe output: never clobber an input or another run's output, never leave a half-written file behind.

The output is written to a hidden temporary file beside the target (same directory, so the
final step stays on one file system), named after the output, the host and the process,
and moved into place only when complete; on any failure, Ctrl-C or SIGTERM it is removed.
Without ``overwrite`` the final step is a hard link, which fails if the output appeared in
the meantime, so a concurrent run's file is never replaced. A temporary file left by a run
that was killed outright (SIGKILL, a node failure) is removed by the next run writing the
same output on the same host; one left on another host is named in a warning.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sstfill.errors import OutputError

log = logging.getLogger(__name__)

NAME_MAX_BYTES = 255  # the longest file name most file systems take (ext4, XFS, Lustre, GPFS)
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname().split(".")[0]) or "host"


def output_path(out: str | os.PathLike) -> Path:
    """The output as a Path; a name ending in a path separator or '-' is refused (both mean something else)."""
    text = os.fspath(out)
    if text == "-":
        raise OutputError("expected an output file name, found '-' (standard output cannot hold NetCDF, which needs "
                          "a seekable file); name a file, e.g. monthly.nc")
    if len(os.fsencode(Path(text).name)) > NAME_MAX_BYTES:
        raise OutputError(f"expected an output file name of at most {NAME_MAX_BYTES} bytes, found "
                          f"{len(os.fsencode(Path(text).name))}; choose a shorter name")
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        raise OutputError(f"expected an output file name, found the directory {text}; name a file in it, "
                          f"e.g. {Path(text) / 'monthly.nc'}")
    return Path(text)


def check_output_path(out: str | os.PathLike, inputs: Sequence[str | os.PathLike | None], *,
                      overwrite: bool) -> Path:
    """Refuse an output that is one of the inputs, exists (without overwrite), is being written by another run,
    cannot be named or cannot be written; remove this host's stale temporary files of it. Returns it as a Path."""
    out = output_path(out)
    if any(_same_file(out, Path(p)) for p in inputs if p is not None):
        raise OutputError(f"expected an output path different from the inputs, found {out} among them "
                          "(daily input, land mask, target, model or store); choose another output name")
    if (out.exists() or out.is_symlink()) and not overwrite:
        what = "a link to nothing" if out.is_symlink() and not out.exists() else "a file"
        raise OutputError(f"output {out} already exists ({what}); pass --overwrite to replace it or choose another "
                          "name")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise OutputError(f"expected the output directory {out.parent} to exist, found nothing; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"expected a writable output directory, found {out.parent} not writable; "
                          "choose another output location")
    _clear_stale_temporaries(out)
    return out


def _same_file(a: Path, b: Path) -> bool:
    """The same file on disk, whatever the path (relative, symlink, hard link)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _temporary_prefix(out: Path) -> str:
    """The start of every temporary name for this output, cut so that a whole temporary name fits NAME_MAX_BYTES."""
    room = NAME_MAX_BYTES - len(f"..sstfill-{_HOST}-{2**22}.tmp") - 8
    name = os.fsencode(out.name)[:room].decode(errors="ignore")
    return f".{name}.sstfill-"


def temporary_path(out: Path) -> Path:
    return out.with_name(f"{_temporary_prefix(out)}{_HOST}-{os.getpid()}.tmp")


def _clear_stale_temporaries(out: Path) -> None:
    """Refuse while another live run on this host writes `out`; remove what killed runs left; name other hosts'."""
    prefix = _temporary_prefix(out)
    pattern = re.compile(re.escape(prefix) + r"(?P<host>\w+)-(?P<pid>\d+)\.tmp$")
    try:
        names = [entry.name for entry in os.scandir(out.resolve().parent) if entry.name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if not match:
            continue
        path, pid = out.with_name(name), int(match["pid"])
        if match["host"] != _HOST:
            log.warning("%s was left by a run on host %s, which may still be writing %s; remove it if that run has "
                        "ended", path, match["host"], out)
        elif pid != os.getpid() and _alive(pid):
            raise OutputError(f"expected no other run writing {out}, found process {pid} on this host writing it "
                              f"({path}); wait for it to end or choose another output name (if no such run exists, "
                              "remove that file)")
        else:
            path.unlink(missing_ok=True)
            log.warning("removed %s, left by an earlier run that was killed (process %d)", path, pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_output(out: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; move it to ``out`` if the block succeeds, else remove it.

    Without overwrite an ``out`` that appeared meanwhile (another run) is never replaced. OS and
    NetCDF library errors on the way (disk full, permissions) become OutputError.
    """
    tmp = temporary_path(out)
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        yield tmp
        _move_into_place(tmp, out, overwrite=overwrite)
    except OSError as exc:
        raise OutputError(f"could not write {out} ({type(exc).__name__}: {exc}); {_space_advice(out)}") from exc
    except RuntimeError as exc:
        if not str(exc).startswith("NetCDF:"):  # netCDF4's library errors; any other is a bug to show as it is
            raise
        raise OutputError(f"could not write {out} ({exc}); {_space_advice(out)}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _move_into_place(tmp: Path, out: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, out)
        return
    try:
        os.link(tmp, out)  # fails if out exists: no window in which another run's file could be replaced
    except FileExistsError:
        raise OutputError(f"expected to create {out}, found that another process created it while this run was "
                          "writing; it was left as it is and this run's result discarded; choose another output "
                          "name or pass --overwrite") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if out.exists() or out.is_symlink():  # a file system without hard links: the small window remains
            raise OutputError(f"expected to create {out}, found that another process created it while this run "
                              "was writing; choose another output name or pass --overwrite") from None
        os.replace(tmp, out)


def _space_advice(out: Path) -> str:
    try:
        free = shutil.disk_usage(out.resolve().parent).free
    except OSError:
        return "check free disk space and permissions; nothing was written"
    return (f"{free / 1e9:.2f} GB are free in {out.resolve().parent}: check free disk space (and quotas) and "
            "permissions; nothing was written")
