"""Is a NetCDF file complete (sstfill.io.truncated)? Every complete classic layout is read as complete."""

import netCDF4
import numpy as np
import pytest

from sstfill.errors import InputError
from sstfill.io.truncated import check_not_truncated


def test_sizes_of_complete_classic_files(tmp_path):
    """Every layout reads as complete: padded and unpadded records, odd-sized fixed variables, no records."""
    for data_model in ("NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA"):
        for records in (0, 3):
            for names in (["a"], ["a", "b"]):
                path = tmp_path / f"{data_model}_{records}_{len(names)}.nc"
                with netCDF4.Dataset(path, "w", format=data_model) as nc:
                    nc.createDimension("time", None)
                    nc.createDimension("x", 3)
                    nc.createVariable("odd", "i1", ("x",))[:] = 1
                    for name in names:
                        nc.createVariable(name, "i1", ("time", "x"))[:] = np.ones((records, 3))
                check_not_truncated(path)
                path.write_bytes(path.read_bytes()[:-4])
                with pytest.raises(InputError, match="is truncated"):
                    check_not_truncated(path)
