"""Grids of the factory (sstfill.testing.grid): boxes of cell centres and random ocean regions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sstfill.testing import make_grid, random_ocean_region


@settings(max_examples=30, deadline=None)
@given(lat_min=st.floats(-89.0, 80.0), span=st.floats(1.0, 9.0), lon_min=st.floats(-180.0, 359.0),
       res=st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0]))
def test_make_grid_gives_ascending_cell_centres_inside_the_box(lat_min, span, lon_min, res):
    lat, lon = make_grid(lat_min, lat_min + span, lon_min, lon_min + span, res)
    for axis, lo in ((lat, lat_min), (lon, lon_min)):
        assert axis.size == max(1, round(span / res))
        np.testing.assert_allclose(np.diff(axis), res, rtol=1e-9, atol=1e-9)
        assert axis[0] == pytest.approx(lo + res / 2)


def test_make_grid_rejects_an_empty_box():
    with pytest.raises(ValueError, match="lat_min < lat_max"):
        make_grid(10.0, 10.0, 0.0, 5.0, 0.25)


def test_random_ocean_region_can_have_non_square_cells():
    for factor in (1.5, 1 / 1.4):
        lat, lon, res = random_ocean_region(np.random.default_rng(4), lon_factor=factor)
        np.testing.assert_allclose(np.diff(lat), res)
        np.testing.assert_allclose(np.diff(lon), res * factor)
        assert 64 <= lon.size <= 128
    square = random_ocean_region(np.random.default_rng(4))
    again = random_ocean_region(np.random.default_rng(4), lon_factor=1.0)
    for a, b in zip(square, again, strict=True):
        np.testing.assert_array_equal(a, b)
