"""Land-mask files (sstfill.io.land): coordinates found by standard name, flipped latitude, another longitude
convention."""

import numpy as np
import pytest
import xarray as xr

from sstfill.errors import InputError
from sstfill.io.land import read_land_mask


def test_land_mask_file_coordinates_found_by_standard_name(tmp_path):
    lat, lon = np.arange(10.0, 14.0), np.arange(-40.0, -35.0)
    axes = {"yc": ("yc", lat + 0.5, {"standard_name": "latitude"}), "xc": ("xc", lon, {"standard_name": "longitude"})}
    mask = xr.Dataset({"land_mask": (("yc", "xc"), np.zeros((4, 5), np.int8))}, coords=axes)
    mask.to_netcdf(tmp_path / "shifted.nc")
    with pytest.raises(InputError, match=r"to hold every point of the input grid.*found a 4 x 5 grid .lat 10.5..13.5"):
        read_land_mask(tmp_path / "shifted.nc", lat, lon)
    mask.assign_coords(yc=("yc", lat, {"standard_name": "latitude"})).to_netcdf(tmp_path / "same.nc")
    assert not read_land_mask(tmp_path / "same.nc", lat, lon).any()


def test_land_mask_file_with_flipped_latitude_and_other_longitude_convention(tmp_path):
    lat, lon = np.arange(10.0, 14.0), np.arange(-2.0, 3.0)  # crosses Greenwich
    land = np.random.default_rng(1).random((lat.size, lon.size)) > 0.5
    order = [3, 4, 0, 1, 2]  # the mask's columns: 1, 2, 358, 359, 0 in 0..360
    mask = xr.Dataset({"land_mask": (("lat", "lon"), land[::-1][:, order].astype(np.int8))},
                      coords={"lat": lat[::-1], "lon": np.mod(lon[order], 360.0)})
    mask.to_netcdf(tmp_path / "flipped.nc")
    np.testing.assert_array_equal(read_land_mask(tmp_path / "flipped.nc", lat, lon), land)
