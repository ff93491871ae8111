"""Shared fixtures: small realistic inputs from sstfill's own seeded generator."""

import pytest

from sstfill.testing import make_grid, synthetic_sst, write_netcdf


@pytest.fixture(scope="session")
def small_region(tmp_path_factory):
    """Four months of daily gappy SST and their monthly truth, 48 x 64 pixels at 0.25 degree off Newfoundland."""
    root = tmp_path_factory.mktemp("small_region")
    lat, lon = make_grid(40.0, 52.0, -60.0, -44.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=4, seed=3, cloud_cover=0.6)
    return write_netcdf(daily, root / "daily.nc"), write_netcdf(truth, root / "truth.nc")
