"""The input contract: what sstfill accepts, and the messages for what it does not."""

import logging

import netCDF4
import numpy as np
import pytest
import xarray as xr

from sstfill.errors import InputError
from sstfill.io.daily import DailyInput
from sstfill.io.files import expand_paths
from sstfill.io.grid import is_global_longitude
from sstfill.io.plausible import PLAUSIBLE_SST_K, Implausible
from sstfill.io.read import open_daily, open_monthly
from sstfill.io.validate import check_valid_data


def cube(n_days=5, ny=4, nx=6, *, name="sst", units="kelvin", start="2021-01-01", offset=290.0, **attrs):
    time = xr.date_range(start, periods=n_days, freq="D")
    values = offset + np.random.default_rng(0).normal(size=(n_days, ny, nx)).astype(np.float32)
    values[:, 0, 0] = np.nan
    da = xr.DataArray(values, dims=("time", "lat", "lon"),
                      coords={"time": time, "lat": np.linspace(10, 13, ny), "lon": np.linspace(-40, -35, nx)},
                      attrs={"units": units, **attrs})
    return da.to_dataset(name=name)


def write(ds, path):
    ds.to_netcdf(path)
    return path


def test_finds_sst_by_standard_name_and_keeps_kelvin(tmp_path):
    path = write(cube(name="foo", standard_name="sea_surface_temperature"), tmp_path / "a.nc")
    daily = open_daily(path)
    assert daily.variable == "foo"
    assert daily.sst.dims == ("time", "lat", "lon")
    assert daily.sst.attrs["units"] == "K"
    assert float(daily.sst.isel(time=0, lat=1, lon=1)) == pytest.approx(float(cube()["sst"][0, 1, 1]))


def test_celsius_becomes_kelvin_and_common_names_are_found(tmp_path):
    path = write(cube(name="tos", units="degC", offset=15.0), tmp_path / "a.nc")
    daily = open_daily(path)
    assert daily.variable == "tos"
    assert float(daily.sst.mean()) == pytest.approx(288.15, abs=0.3)


def test_var_override_and_missing_variable_message(tmp_path):
    ds = cube(name="temperature")
    path = write(ds, tmp_path / "a.nc")
    with pytest.raises(InputError, match=r"expected an SST variable.*temperature.*--var"):
        open_daily(path)
    assert open_daily(path, variable="temperature").variable == "temperature"
    with pytest.raises(InputError, match="expected a variable 'nope'"):
        open_daily(path, variable="nope")


def test_two_sst_like_variables_are_refused_unless_one_is_named(tmp_path, caplog):
    ds = cube(name="sst_night", standard_name="sea_surface_temperature")
    ds["sst"] = (ds["sst_night"] + 5.0).assign_attrs(standard_name="sea_surface_temperature", units="kelvin")
    path = write(ds, tmp_path / "a.nc")
    with pytest.raises(InputError, match=r"found 2 that look like SST: 'sst_night' .*'sst' .*--var"):
        open_daily(path)
    with caplog.at_level(logging.INFO, logger="sstfill"):
        assert open_daily(path, variable="sst").variable == "sst"
    assert "SST of the input from variable 'sst'" in caplog.text
    # a common SST name and another variable with an SST standard_name are two candidates too
    ds = cube()
    ds["sst"].attrs.pop("standard_name", None)
    ds["analysed"] = ds["sst"].assign_attrs(standard_name="sea_surface_foundation_temperature")
    with pytest.raises(InputError, match="'sst' \\(named sst\\), 'analysed' \\(standard_name"):
        open_daily(write(ds, tmp_path / "b.nc"))


def test_a_series_beside_the_map_is_not_a_candidate(tmp_path):
    ds = cube()
    ds["sst_mean"] = ds["sst"].mean(("lat", "lon")).assign_attrs(standard_name="sea_surface_temperature", units="K")
    assert open_daily(write(ds, tmp_path / "a.nc")).variable == "sst"


@pytest.mark.parametrize(("lat", "lon", "message"), [
    (np.arange(100.0, 104.0), np.arange(6.0), "latitudes within -90..90"),
    (np.arange(-95.0, -91.0), np.arange(6.0), "latitudes within -90..90"),
    (np.arange(4.0), np.arange(0.0, 720.0, 120.0), "at most 360 degrees"),
])
def test_latitudes_past_a_pole_and_longitudes_past_a_turn_are_refused(tmp_path, lat, lon, message):
    path = write(cube().assign_coords(lat=lat, lon=lon), tmp_path / "a.nc")
    with pytest.raises(InputError, match=message):
        open_daily(path)


def test_grids_at_the_limits_are_accepted(tmp_path):
    """Cell centres at the poles, and a global grid whose cells span exactly 360 degrees."""
    ds = cube(ny=4, nx=6).assign_coords(lat=[-90.0, -30.0, 30.0, 90.0], lon=np.arange(-180.0, 180.0, 60.0))
    daily = open_daily(write(ds, tmp_path / "a.nc"))
    assert daily.lat[0] == -90.0 and daily.periodic_x


@pytest.mark.parametrize("units", ["degC", "degree_C", "degrees_C", "deg C", "°C", "Celsius", "degree_Celsius",
                                   "degrees Celsius", "C"])
def test_every_spelling_of_celsius_becomes_kelvin(tmp_path, units):
    path = write(cube(units=units, offset=15.0), tmp_path / "a.nc")
    assert float(open_daily(path).sst.mean()) == pytest.approx(288.15, abs=0.3)


@pytest.mark.parametrize("units", ["K", "kelvin", "Kelvin", "degK", "degrees_K", "deg K"])
def test_every_spelling_of_kelvin_stays_kelvin(tmp_path, units):
    path = write(cube(units=units), tmp_path / "a.nc")
    assert float(open_daily(path).sst.mean()) == pytest.approx(290.0, abs=0.3)


def test_values_outside_the_plausible_range_are_missing_with_a_warning(tmp_path, caplog):
    ds = cube()
    ds["sst"][:, 1, 2] = -999.0  # a fill value the file does not declare
    ds["sst"][2, 3, 4] = 0.0  # land written as zero kelvin
    daily = open_daily(write(ds, tmp_path / "a.nc"))
    assert np.isnan(daily.sst[:, 1, 2].values).all() and np.isnan(daily.sst[2, 3, 4].values)
    assert np.isfinite(daily.sst[:, 1, 1].values).all()
    with caplog.at_level("WARNING"):
        validity = check_valid_data(daily)
    assert not validity.observed[1, 2] and validity.observed[3, 4]
    np.testing.assert_array_equal(validity.per_day, [22, 22, 21, 22, 22])
    assert "6 value(s) in" in caplog.text and "spanning -999..2" in caplog.text and "treated as missing" in caplog.text


def test_values_in_celsius_labelled_kelvin_are_refused(tmp_path):
    daily = open_daily(write(cube(units="K", offset=15.0), tmp_path / "a.nc"))
    with pytest.raises(InputError, match=r"expected SST values within 268.15..318.15 K, found none: 115 value.*"
                                         r"spanning 1[0-9.]*..1[0-9.]* K.*check the variable's units attribute"):
        check_valid_data(daily)


def test_monthly_files_lose_implausible_values_too(tmp_path, caplog):
    ds = cube(n_days=2)
    ds["sst"][0, 2, 2] = 1e20
    with caplog.at_level("WARNING"):
        _, sst = open_monthly(write(ds, tmp_path / "a.nc"), what="reference")
    assert np.isnan(sst[0, 2, 2].values) and np.isfinite(sst[1, 2, 2].values)
    assert "1 value(s) in reference" in caplog.text
    with pytest.raises(InputError, match="found none"):
        open_monthly(write(cube(n_days=2, offset=-999.0), tmp_path / "b.nc"), what="target")


def test_unknown_units_are_refused(tmp_path):
    path = write(cube(units="furlongs"), tmp_path / "a.nc")
    with pytest.raises(InputError, match=r"kelvin.*found 'furlongs'"):
        open_daily(path)


def with_2d_coordinates(ds, *, tilt=0.0, transpose=False):
    """ds with lat(y, x) and lon(y, x) (or (x, y)); tilt > 0 makes the grid curvilinear."""
    ds = ds.rename({"lat": "y", "lon": "x"})
    lat2d, lon2d = np.meshgrid(ds["y"].values, ds["x"].values, indexing="ij")
    lat2d = lat2d + tilt * np.arange(lon2d.shape[1])
    dims = ("y", "x")
    if transpose:
        lat2d, lon2d, dims = lat2d.T, lon2d.T, ("x", "y")
    return ds.drop_vars(["y", "x"]).assign_coords(lat=(dims, lat2d), lon=(dims, lon2d))


@pytest.mark.parametrize("transpose", [False, True])
def test_regular_grid_with_2d_coordinates_reads_as_1d(tmp_path, transpose):
    path = write(with_2d_coordinates(cube(), transpose=transpose), tmp_path / "a.nc")
    daily, plain = open_daily(path), open_daily(write(cube(), tmp_path / "b.nc"))
    assert daily.sst.dims == ("time", "lat", "lon")
    np.testing.assert_array_equal(daily.lat, plain.lat)
    np.testing.assert_array_equal(daily.lon, plain.lon)
    np.testing.assert_array_equal(daily.sst.values, plain.sst.values)


def test_curvilinear_grid_is_refused_with_a_regridding_hint(tmp_path):
    path = write(with_2d_coordinates(cube(), tilt=0.01), tmp_path / "a.nc")
    with pytest.raises(InputError, match=r"curvilinear.*regrid"):
        open_daily(path)


def test_projected_x_y_in_metres_are_not_taken_for_degrees(tmp_path):
    ds = cube().rename({"lat": "y", "lon": "x"})
    ds = ds.assign_coords(y=("y", ds["y"].values * 1e5, {"units": "m"}), x=("x", ds["x"].values * 1e5, {"units": "m"}))
    with pytest.raises(InputError, match=r"expected latitude and longitude coordinates in degrees.*projected x/y in "
                                          "metres need regridding"):
        open_daily(write(ds, tmp_path / "polar.nc"))
    ds = ds.assign_coords(y=("y", cube()["lat"].values, {"units": "degrees_north"}),
                          x=("x", cube()["lon"].values, {"units": "°E"}))
    np.testing.assert_array_equal(open_daily(write(ds, tmp_path / "named_y_x.nc")).lat, cube()["lat"].values)


def test_missing_time_dimension(tmp_path):
    path = write(cube().isel(time=0, drop=True), tmp_path / "a.nc")
    with pytest.raises(InputError, match="time dimension"):
        open_daily(path)


def test_non_monotonic_coordinates(tmp_path):
    ds = cube()
    lat = ds["lat"].values.copy()
    lat[[1, 2]] = lat[[2, 1]]
    path = write(ds.assign_coords(lat=lat), tmp_path / "a.nc")
    with pytest.raises(InputError, match="monotonic"):
        open_daily(path)


def test_many_files_are_ordered_by_time(tmp_path):
    write(cube(n_days=3, start="2021-01-04"), tmp_path / "a.nc")
    write(cube(n_days=3, start="2021-01-01"), tmp_path / "b.nc")
    for given in ([tmp_path], [str(tmp_path / "*.nc")], [tmp_path / "a.nc", tmp_path / "b.nc"]):
        daily = open_daily(given)
        days = daily.sst["time"].dt.day.values
        assert list(days) == [1, 2, 3, 4, 5, 6]
        assert len(daily.sources) == 2


def test_duplicate_days_and_mixed_grids_are_reported(tmp_path):
    write(cube(n_days=3), tmp_path / "a.nc")
    write(cube(n_days=3, start="2021-01-03"), tmp_path / "b.nc")
    with pytest.raises(InputError, match=r"duplicate day.*2021-01-03"):
        open_daily(tmp_path)
    (tmp_path / "b.nc").unlink()
    write(cube(n_days=3, start="2021-01-04", nx=7), tmp_path / "c.nc")
    with pytest.raises(InputError, match=r"one grid.*regrid"):
        open_daily(tmp_path)


@pytest.mark.parametrize("data_model", ["NETCDF4", "NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA"])
def test_truncated_file_is_an_input_error(tmp_path, data_model):
    path = tmp_path / "a.nc"
    cube().to_netcdf(path, format=data_model, engine="netcdf4",
                     unlimited_dims=["time"] if data_model != "NETCDF4" else None)
    data = path.read_bytes()
    for size in (len(data) - 1, len(data) // 2, 64):
        path.write_bytes(data[:size])
        with pytest.raises(InputError, match=f"is truncated: expected .*found {size}.*re-download"):
            open_daily(path)


def test_missing_paths_and_empty_globs(tmp_path):
    with pytest.raises(InputError, match=r"expected an input file.*found nothing"):
        expand_paths([tmp_path / "none.nc"])
    with pytest.raises(InputError, match="matching"):
        expand_paths([str(tmp_path / "*.nc")])


def test_quality_level_filters_observations(tmp_path):
    ds = cube()
    quality = np.full(ds["sst"].shape, 5, dtype=np.int8)
    quality[:, 2, 3] = 2
    ds["quality_level"] = (("time", "lat", "lon"), quality)
    path = write(ds, tmp_path / "a.nc")
    assert np.isnan(open_daily(path).sst[:, 2, 3].values).all()
    assert np.isfinite(open_daily(path, min_quality=None).sst[:, 2, 3].values).all()
    assert np.isfinite(open_daily(path, min_quality=2).sst[:, 2, 3].values).all()


def test_open_is_lazy(tmp_path):
    daily = open_daily(write(cube(), tmp_path / "a.nc"))
    assert daily.sst.chunks is not None


def test_global_longitude_detection():
    assert is_global_longitude(np.arange(0.5, 360, 1.0))
    assert is_global_longitude(np.arange(-179.875, 180, 0.25))
    assert not is_global_longitude(np.arange(160, 200, 0.25))


def test_scalar_time_of_a_one_day_file_becomes_a_time_dimension(tmp_path):
    for day in (1, 2):
        ds = cube(n_days=1, start=f"2021-01-0{day}").isel(time=0)  # time left as a scalar coordinate
        assert "time" not in ds["sst"].dims
        write(ds, tmp_path / f"day{day}.nc")
    daily = open_daily(tmp_path)
    assert daily.sst.sizes["time"] == 2 and list(daily.sst["time"].dt.day.values) == [1, 2]


def test_other_time_names_and_undecodable_times(tmp_path):
    daily = open_daily(write(cube().rename({"time": "valid_time"}), tmp_path / "era5.nc"))
    assert daily.sst.dims == ("time", "lat", "lon")
    ds = cube()
    ds["time"] = ("time", np.arange(5.0), {"units": "furlongs since the start"})
    with pytest.raises(InputError, match=r"expected CF time in .*found times that cannot be decoded.*'furlongs since"):
        open_daily(write(ds, tmp_path / "bad_time.nc"))


def test_longitudes_across_the_date_line_are_unwrapped(tmp_path):
    ds = cube(nx=6).assign_coords(lon=[170.0, 174.0, 178.0, -178.0, -174.0, -170.0])
    daily = open_daily(write(ds, tmp_path / "a.nc"))
    np.testing.assert_array_equal(daily.lon, [170.0, 174.0, 178.0, 182.0, 186.0, 190.0])
    assert not daily.periodic_x


def test_land_mask_variable_with_time_fraction_or_percent(tmp_path):
    ds = cube()
    lsm = np.zeros((5, 4, 6), np.float32)
    lsm[:, 0, :2] = 0.8
    ds["lsm"] = (("time", "lat", "lon"), lsm, {"units": "(0 - 1)"})  # ERA5: a land fraction at every time
    land = open_daily(write(ds, tmp_path / "a.nc")).land
    assert land.shape == (4, 6) and land[0, :2].all() and land.sum() == 2
    ds = cube()
    ds["sftlf"] = (("lat", "lon"), np.where(np.arange(6) < 3, 100.0, 20.0)[None].repeat(4, 0), {"units": "%"})
    assert open_daily(write(ds, tmp_path / "b.nc")).land.sum() == 12
    ds = cube()
    ds["mask"] = (("lat", "lon"), np.ones((4, 6)), {"standard_name": "sea_binary_mask"})
    assert not open_daily(write(ds, tmp_path / "c.nc")).land.any()


def test_validity_is_counted_per_day_in_time_order(tmp_path):
    write(cube(n_days=3, start="2021-01-04"), tmp_path / "a.nc")
    ds = cube(n_days=3, start="2021-01-01")
    ds["sst"][1] = np.nan
    write(ds, tmp_path / "b.nc")
    validity = open_daily(tmp_path).validity()
    np.testing.assert_array_equal(validity.per_day, [23, 0, 23, 23, 23, 23])
    assert validity.observed.sum() == 23 and not validity.observed[0, 0]


@pytest.mark.parametrize("chunks", [{"time": 2}, {"time": 3, "lat": 2, "lon": 4}, {}])
def test_validity_block_by_block_matches_the_whole_array(chunks):
    values = 290 + np.random.default_rng(1).random((7, 5, 9)).astype(np.float32)
    values[values > 290.6] = np.nan
    values[0] = np.nan  # a day with nothing
    values[1, 0, :3] = (np.inf, -np.inf, 250.0)  # not plausible, yet not missing
    values[2, 4, 8] = 400.0
    sst = xr.DataArray(values, dims=("time", "lat", "lon"), coords={"lat": np.arange(5.0), "lon": np.arange(9.0)})
    daily = DailyInput(sst=sst.chunk(chunks) if chunks else sst, variable="sst", standard_name="", sources=["x"])
    validity = daily.validity()
    plausible = (values >= PLAUSIBLE_SST_K[0]) & (values <= PLAUSIBLE_SST_K[1])
    np.testing.assert_array_equal(validity.per_day, plausible.sum(axis=(1, 2)))
    np.testing.assert_array_equal(validity.observed, plausible.any(axis=0))
    assert validity.implausible == Implausible(4, -np.inf, np.inf)
    finite_only = np.where(np.isinf(values), np.nan, values)
    daily = DailyInput(sst=sst.copy(data=finite_only).chunk(chunks), variable="sst", standard_name="", sources=["x"])
    assert daily.validity().implausible == Implausible(2, 250.0, 400.0)


def test_non_netcdf_files_and_hidden_files(tmp_path):
    write(cube(), tmp_path / "a.nc")
    (tmp_path / ".a.nc.123.tmp.nc").write_bytes(b"partial")  # a temporary file left by a killed run
    assert len(open_daily(tmp_path).sources) == 1
    (tmp_path / "readme.nc").write_text("not data")
    with pytest.raises(InputError, match="neither NetCDF nor HDF5"):
        open_daily(tmp_path)


def _chunked_file(path, chunk_days):
    """20 days of a 6 x 8 SST map, stored in chunks of chunk_days days (None: contiguous)."""
    with netCDF4.Dataset(path, "w") as nc:
        for name, size in (("time", 20), ("lat", 6), ("lon", 8)):
            nc.createDimension(name, size)
        nc.createVariable("time", "f8", ("time",)).setncatts({"units": "days since 2020-01-01"})
        nc.createVariable("lat", "f8", ("lat",)).setncatts({"units": "degrees_north"})
        nc.createVariable("lon", "f8", ("lon",)).setncatts({"units": "degrees_east"})
        nc["time"][:], nc["lat"][:], nc["lon"][:] = np.arange(20), np.arange(6) + 40.0, np.arange(8) - 30.0
        options = {"contiguous": True} if chunk_days is None else {"zlib": True, "chunksizes": (chunk_days, 6, 8)}
        sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), **options)
        sst.setncatts({"units": "K", "standard_name": "sea_surface_temperature"})
        sst[:] = 290 + np.random.default_rng(0).random((20, 6, 8))
    return path


@pytest.mark.parametrize(("stored", "read"), [(5, 5), (20, 20), (None, 1)])
def test_input_is_read_in_the_days_of_its_stored_chunks(tmp_path, stored, read):
    """A stored chunk is decompressed whole, so reading it a day at a time would decompress it once per day."""
    daily = open_daily([_chunked_file(tmp_path / "in.nc", stored)])
    assert daily.sst.data.chunksize == (read, 6, 8)
    with xr.open_dataset(tmp_path / "in.nc") as ds:
        np.testing.assert_array_equal(daily.sst.values, ds["sst"].values)


def test_stored_chunks_larger_than_the_read_limit_are_read_in_parts_that_fit(tmp_path, monkeypatch):
    import sstfill.io.read as read

    monkeypatch.setattr(read, "CHUNK_BYTES", 3 * 6 * 8 * 4)
    assert open_daily([_chunked_file(tmp_path / "in.nc", 5)]).sst.data.chunksize == (3, 6, 8)
