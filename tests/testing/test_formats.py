"""Files of the factory (sstfill.testing.formats): write_netcdf round-trips with CF encoding."""

import numpy as np
import pytest
import xarray as xr

from sstfill.testing import make_grid, synthetic_sst, write_netcdf


@pytest.mark.parametrize("calendar", ["standard", "noleap"])
def test_write_netcdf_round_trips_with_cf_encoding(tmp_path, calendar):
    lat, lon = make_grid(36.0, 40.0, -70.0, -66.0, 0.25)
    daily, monthly = synthetic_sst(lat, lon, n_months=2, calendar=calendar)
    for ds, name in ((daily, "daily.nc"), (monthly, "monthly.nc")):
        path = write_netcdf(ds, tmp_path / name)
        assert path == tmp_path / name
        with xr.open_dataset(path) as back:
            xr.testing.assert_identical(back.load(), ds)
            enc = back.sst.encoding
            assert enc["zlib"] and enc["dtype"] == np.float32 and np.isnan(enc["_FillValue"])
            assert back.time.encoding["calendar"] == calendar
            assert back.time.encoding["units"].startswith("days since")
