"""A region and a month of it from the factory, shared by the tests of sstfill.testing."""

import pytest

from sstfill.testing import make_grid, synthetic_sst


@pytest.fixture(scope="session")
def grid():
    """64 x 64 at 0.25 degrees off New England: coast, shelf and the Gulf Stream front."""
    return make_grid(30.0, 46.0, -75.0, -59.0, 0.25)


@pytest.fixture(scope="session")
def month(grid):
    return synthetic_sst(*grid, start="2021-01-01", n_months=1, seed=7, cloud_cover=0.6)
