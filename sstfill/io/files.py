"""Which files the user named, and opening one of them: the boundary where paths become datasets.

Paths may be files, directories (their NetCDF files) or glob patterns; a file that is not
NetCDF/HDF5, is truncated, or has undecodable times is reported as an InputError that says
what to do.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import xarray as xr

from sstfill.errors import InputError

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")


def expand_paths(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named by paths, directories (their NetCDF files) and glob patterns, in a stable order."""
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir()
                             if p.suffix.lower() in NETCDF_SUFFIXES and p.is_file() and not p.name.startswith("."))
            if not matches:
                raise InputError(f"expected NetCDF files (*.nc) in directory {text}, found none; point to the files directly")
            found.extend(matches)
        elif path.exists():
            found.append(path)
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text))
            if not matches:
                raise InputError(f"expected files matching {text!r}, found none; check the pattern")
            found.extend(matches)
        else:
            raise InputError(f"expected an input file at {text}, found nothing; check the path")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def open_dataset(path: Path, chunks: dict | None = None) -> xr.Dataset:
    """Open one NetCDF file lazily (nothing is read but coordinates), failures as InputError.

    Without ``chunks`` the variables are lazily indexed arrays; ``standardise`` turns the
    SST into one dask chunk per day.
    """
    if path.is_dir():
        raise InputError(f"expected a NetCDF file at {path}, found a directory; name the files in it or a glob")
    if not path.is_file():
        raise InputError(f"expected a NetCDF file at {path}, found nothing; check the path")
    if not _looks_like_netcdf(path):
        raise InputError(f"expected a NetCDF file at {path}, found a file that is neither NetCDF nor HDF5; "
                         "pass the NetCDF files only (check a glob or directory for other files)")
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
    try:
        with path.open("rb") as f:
            head = f.read(4)
            if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
                return True
            for offset in (0, 512, 1024, 2048, 4096):
                f.seek(offset)
                if f.read(8) == b"\x89HDF\r\n\x1a\n":
                    return True
    except OSError:
        return True  # let the library report it
    return False


def one_line(exc: BaseException) -> str:
    """An exception as 'Type: message' on one line, for error messages."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
