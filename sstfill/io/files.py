"""Which files the user named, and opening one of them: the boundary where paths become datasets.

Paths may be files, directories (their NetCDF files) or glob patterns; a directory or file
that cannot be read, a file that is not NetCDF/HDF5, is truncated (``sstfill.io.truncated``),
or has undecodable times is reported as an InputError that says what to do.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import xarray as xr

from sstfill.errors import InputError
from sstfill.io.truncated import HDF5_SIGNATURE, HDF5_SUPERBLOCK_OFFSETS, check_not_truncated

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")


def expand_paths(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named by paths, directories (their NetCDF files) and glob patterns, in a stable order."""
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        if text == "-":
            raise InputError("expected input files, found '-' (standard input cannot hold NetCDF, which needs a "
                             "seekable file); save the stream to a file and name that file")
        try:
            found.extend(_files_named(text))
        except OSError as exc:  # a directory on the way that may not be searched or listed
            raise InputError(f"expected to read {text}, found it cannot be reached ({exc.strerror or one_line(exc)}); "
                             "check the permissions of it and of the directories above it") from exc
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def _files_named(text: str) -> list[Path]:
    """The files one input names: itself, a directory's NetCDF files, or a glob's matches."""
    path = Path(text)
    if path.is_dir():
        try:
            matches = sorted(p for p in path.iterdir()
                             if p.suffix.lower() in NETCDF_SUFFIXES and p.is_file() and not p.name.startswith("."))
        except OSError as exc:
            raise InputError(f"expected to list the NetCDF files in directory {text}, found it cannot be read "
                             f"({exc.strerror or one_line(exc)}); check its permissions or name the files") from exc
        if not matches:
            raise InputError(f"expected NetCDF files (*.nc) in directory {text}, found none; point to the files "
                             "directly")
        return matches
    if path.exists():
        return [path]
    if glob.has_magic(text):
        matches = sorted(Path(p) for p in glob.glob(text))
        if not matches:
            raise InputError(f"expected files matching {text!r}, found none; check the pattern")
        return matches
    raise InputError(f"expected an input file at {text}, found nothing; check the path")


def open_dataset(path: Path, chunks: dict | None = None) -> xr.Dataset:
    """Open one NetCDF file lazily (nothing is read but coordinates), failures as InputError.

    Without ``chunks`` the variables are lazily indexed arrays; ``standardise`` chunks the
    SST by the days of its stored chunks.
    """
    try:
        if path.is_dir():
            raise InputError(f"expected a NetCDF file at {path}, found a directory; name the files in it or a glob")
        if not path.is_file():
            raise InputError(f"expected a NetCDF file at {path}, found nothing; check the path")
        if not _looks_like_netcdf(path):
            raise InputError(f"expected a NetCDF file at {path}, found a file that is neither NetCDF nor HDF5; "
                             "pass the NetCDF files only (check a glob or directory for other files)")
        check_not_truncated(path)
    except OSError as exc:
        raise InputError(f"expected a readable NetCDF file at {path}, found it cannot be read "
                         f"({exc.strerror or one_line(exc)}); check its permissions") from exc
    try:
        return xr.open_dataset(path, chunks=chunks, mask_and_scale=True)
    except Exception as exc:  # netCDF4/HDF5 raise many types for truncated or foreign files
        failure = exc
    try:  # is it only the times?
        xr.open_dataset(path, decode_times=False).close()
    except Exception:
        raise InputError(
            f"could not read {path} as NetCDF ({one_line(failure)}); "
            "check the file is a complete NetCDF file (re-download or regenerate it)"
        ) from failure
    raise InputError(
        f"expected CF time in {path} (units such as 'days since 1981-01-01' and a CF calendar), found times that "
        f"cannot be decoded ({one_line(failure)}); fix the time variable's units and calendar attributes"
    ) from failure


def _looks_like_netcdf(path: Path) -> bool:
    """NetCDF classic/64-bit/CDF5 magic at the start, or an HDF5 superblock where HDF5 may put it."""
    with path.open("rb") as f:
        head = f.read(4)
        if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
            return True
        for offset in HDF5_SUPERBLOCK_OFFSETS:
            f.seek(offset)
            if f.read(8) == HDF5_SIGNATURE:
                return True
    return False


def one_line(exc: BaseException) -> str:
    """An exception as 'Type: message' on one line, for error messages."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
