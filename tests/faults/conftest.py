"""Fixtures of the fault suite; the harness that runs the CLI is in harness.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sstfill.testing import make_grid, synthetic_sst, write_netcdf


@pytest.fixture(scope="session")
def one_month(tmp_path_factory) -> Path:
    """One month of daily gappy SST, 24 x 32 pixels at 0.25 degree, from the generator."""
    root = tmp_path_factory.mktemp("one_month")
    lat, lon = make_grid(40.0, 46.0, -60.0, -52.0, 0.25)
    daily, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=1, seed=5, cloud_cover=0.6)
    return write_netcdf(daily, root / "daily.nc")


@pytest.fixture
def out_dir(tmp_path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory
