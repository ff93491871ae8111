"""Is a NetCDF file complete? Its header says how long it must be; a shorter file was cut.

netCDF-C reads a truncated classic (NetCDF3) file without complaint: the missing bytes come
back as zeros or as whatever the cut left, so the size is checked here, before opening.
A classic file must reach the end of its last fixed-size variable and of ``numrecs``
records (the layout of the NetCDF classic format specification, CDF-1, CDF-2 and CDF-5).
HDF5 (NetCDF4) records the end-of-file address in its superblock; the HDF5 library refuses
a shorter file, but netCDF-C reports that only as "NetCDF: HDF error".
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from sstfill.errors import InputError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_SUPERBLOCK_OFFSETS = (0, 512, 1024, 2048, 4096)

# nc_type -> bytes per value: byte, char, short, int, float, double, ubyte, ushort, uint, int64, uint64
CLASSIC_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}
NC_DIMENSION, NC_VARIABLE, NC_ATTRIBUTE = 10, 11, 12


class _HeaderEnds(Exception):
    """The file ends inside its own header."""


class _NotClassic(Exception):
    """The header does not follow the classic layout; the NetCDF library will say what is wrong."""


def check_not_truncated(path: Path) -> None:
    """Raise InputError when `path` is shorter than its NetCDF3 header or HDF5 superblock says it must be."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
            try:
                expected = classic_size(f, version=head[3], size=size)
            except _HeaderEnds:
                raise InputError(f"{path} is truncated: expected a complete NetCDF header, found {size} bytes "
                                 "that end inside it; re-download or regenerate it") from None
            except _NotClassic:
                return
        else:
            expected = hdf5_size(f)
    if expected is not None and size < expected:
        raise InputError(f"{path} is truncated: expected {expected} bytes, found {size}; re-download or regenerate it")


def classic_size(f: BinaryIO, *, version: int, size: int) -> int | None:
    """The least size of a classic file, read from its header (f is just past the magic number):
    the end of the last byte of every variable's data. None while the file is being written."""
    header = _ClassicHeader(f, version, size)
    numrecs = header.count()
    dims = []
    for _ in range(header.list_length(NC_DIMENSION)):
        header.name()
        dims.append(header.count())
    header.attributes()
    variables = []  # (begin, values per record or in all, bytes per value, is a record variable)
    for _ in range(header.list_length(NC_VARIABLE)):
        header.name()
        shape = [header.count() for _ in range(header.count())]
        header.attributes()
        nc_type = header.int32()
        header.count()  # vsize: capped for large variables, so computed from the shape instead
        begin = header.offset()
        if nc_type not in CLASSIC_TYPE_SIZES or any(d >= len(dims) for d in shape):
            raise _NotClassic
        record = bool(shape) and dims[shape[0]] == 0
        values = 1
        for d in shape[1 if record else 0:]:
            values *= dims[d]
        variables.append((begin, values, CLASSIC_TYPE_SIZES[nc_type], record))
    if numrecs == header.streaming:
        return None
    records = [values * nbytes for _, values, nbytes, record in variables if record]
    # a record holds each record variable padded to 4 bytes, unpadded when there is only one
    record_size = records[0] if len(records) == 1 else sum(_padded(n) for n in records)
    ends = [header.end]
    for begin, values, nbytes, record in variables:
        if not record:
            ends.append(begin + values * nbytes)
        elif numrecs:
            ends.append(begin + (numrecs - 1) * record_size + values * nbytes)
    return max(ends)


def _padded(n: int) -> int:
    return n + (-n % 4)


class _ClassicHeader:
    """The header's fields in file order: counts are 32-bit in CDF-1 and CDF-2 and 64-bit in
    CDF-5; data offsets are 32-bit in CDF-1 and 64-bit from CDF-2."""

    def __init__(self, f: BinaryIO, version: int, size: int):
        self.f, self.size = f, size
        self.count_format = ">Q" if version == 5 else ">I"
        self.offset_format = ">I" if version == 1 else ">Q"
        self.streaming = (1 << (8 * struct.calcsize(self.count_format))) - 1  # numrecs while being written

    @property
    def end(self) -> int:
        return self.f.tell()

    def read(self, n: int) -> bytes:
        if self.f.tell() + n > self.size:
            raise _HeaderEnds
        return self.f.read(n)

    def _unpack(self, fmt: str) -> int:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def int32(self) -> int:
        return self._unpack(">i")

    def count(self) -> int:
        return self._unpack(self.count_format)

    def offset(self) -> int:
        return self._unpack(self.offset_format)

    def name(self) -> None:
        self.read(_padded(self.count()))

    def list_length(self, tag: int) -> int:
        """The length of a dimension, attribute or variable list (0 when ABSENT)."""
        found, n = self.int32(), self.count()
        if found not in (0, tag) or (found == 0 and n != 0):
            raise _NotClassic
        return n

    def attributes(self) -> None:
        for _ in range(self.list_length(NC_ATTRIBUTE)):
            self.name()
            nc_type = self.int32()
            if nc_type not in CLASSIC_TYPE_SIZES:
                raise _NotClassic
            self.read(_padded(self.count() * CLASSIC_TYPE_SIZES[nc_type]))


def hdf5_size(f: BinaryIO) -> int | None:
    """The end-of-file address an HDF5 superblock records (plus its base address), or None."""
    for at in HDF5_SUPERBLOCK_OFFSETS:
        f.seek(at)
        block = f.read(96)
        if block[:8] != HDF5_SIGNATURE or len(block) < 12:
            continue
        version = block[8]
        if version in (0, 1):
            offset_size, fields = block[13], 24 if version == 0 else 28
        elif version in (2, 3):
            offset_size, fields = block[9], 12
        else:
            return None
        formats = {4: "<I", 8: "<Q"}
        if offset_size not in formats or len(block) < fields + 3 * offset_size:
            return None
        base = struct.unpack_from(formats[offset_size], block, fields)[0]
        end = struct.unpack_from(formats[offset_size], block, fields + 2 * offset_size)[0]
        undefined = (1 << (8 * offset_size)) - 1
        return None if undefined in (base, end) else base + end
    return None
