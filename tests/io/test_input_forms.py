"""Every input form docs/io.md accepts, reconstructed through the CLI with a tiny model.

The inputs are the files users hold (GHRSST L3 per-day files, ERA5-like cubes, CMIP tos in
non-standard calendars, global and date-line-crossing grids), written by sstfill.testing from
one seeded synthetic field, so each output can be checked against what the generator knows:
the valid-day counts exactly, the monthly truth within a tolerance, land and grid exactly.
"""

import json

import dask
import numpy as np
import pytest
import torch
import xarray as xr
from typer.testing import CliRunner

from sstfill.checkpoint import LoadedModel
from sstfill.cli import app
from sstfill.config import DataContract, ModelConfig
from sstfill.errors import InputError
from sstfill.io.coastline import land_mask
from sstfill.io.daily import DailyInput
from sstfill.io.read import open_daily
from sstfill.testing import make_grid, synthetic_sst, write_cmip_tos, write_era5_like, write_ghrsst_l3, write_netcdf

runner = CliRunner()
CFTIME = xr.coders.CFDatetimeCoder(use_cftime=True)
TOLERANCE_K = 0.5  # RMSE against the monthly truth; the tiny model's output is close to the filled composite


def reconstruct(model, *inputs, out, options=()):
    result = runner.invoke(app, ["reconstruct", *map(str, inputs), str(out), "--model", str(model), "--device", "cpu",
                                 *options])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out, decode_times=CFTIME) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def region():
    """Two months (January and February 2021) of daily SST, 32 x 48 pixels at 0.25 degree off Nova Scotia."""
    lat, lon = make_grid(40.0, 48.0, -60.0, -48.0, 0.25)
    return synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=3)


def expected_nobs(daily, min_quality=4):
    """Valid days per pixel and month, as the reconstruction's nobs should count them."""
    good = np.isfinite(daily["sst"].values) & (daily["quality_level"].values >= min_quality)
    months = daily["time"].dt.month.values
    return np.stack([good[months == m].sum(axis=0) for m in np.unique(months)])


def check_against_truth(ds, daily, truth, *, flip_lat=False, roll_lon=0):
    """nobs exact, every ocean pixel filled, land empty, SST close to the truth; on the input's orientation."""
    def orient(a):
        a = a[..., ::-1, :] if flip_lat else a
        return np.roll(a, -roll_lon, axis=-1) if roll_lon else a

    sst, nobs = orient(ds["sst"].values), orient(ds["nobs"].values)
    reference = truth["sst"].values[: sst.shape[0]]
    ocean = np.isfinite(reference)
    np.testing.assert_array_equal(np.where(ocean, nobs, 0), expected_nobs(daily)[: sst.shape[0]] * ocean)
    assert np.isfinite(sst[ocean]).all(), "every ocean pixel is filled"
    assert np.isnan(sst[~ocean]).all(), "land stays empty"
    rmse = float(np.sqrt(np.mean((sst[ocean] - reference[ocean]) ** 2)))
    assert rmse < TOLERANCE_K, f"RMSE {rmse:.3f} K against the truth"
    assert ds["sst"].attrs["units"] == "K"


# ----------------------------------------------------------------------- GHRSST L3


@pytest.fixture(scope="module")
def l3_files(region, tmp_path_factory):
    daily, _ = region
    return write_ghrsst_l3(daily, tmp_path_factory.mktemp("l3"))


@pytest.mark.slow
def test_ghrsst_l3_files_as_a_directory_a_glob_or_many_paths(l3_files, region, tiny_model, tmp_path):
    daily, truth = region
    directory = l3_files[0].parent
    assert len(l3_files) == 59 and l3_files[0].name.startswith("20210101000000-") and "L3S_GHRSST" in l3_files[0].name
    with xr.open_dataset(l3_files[0], mask_and_scale=False) as raw:  # the file is packed as distributed
        sst = raw["sea_surface_temperature"]
        assert sst.dtype == np.int16 and sst.attrs["scale_factor"] == np.float32(0.01)
        assert sst.attrs["_FillValue"] == -32768 and raw["quality_level"].dtype == np.int8
        assert raw["time"].encoding["units"] == "seconds since 1981-01-01 00:00:00"

    by_directory = reconstruct(tiny_model, directory, out=tmp_path / "dir.nc")
    check_against_truth(by_directory, daily, truth)
    assert by_directory["sst"].attrs["standard_name"] == "sea_surface_subskin_temperature"
    assert by_directory.sizes["time"] == 2 and len(by_directory.attrs["input_files"].split()) == 59

    january = [path for path in l3_files if path.name.startswith("202101")]
    # quoted: sstfill expands the pattern
    by_glob = reconstruct(tiny_model, str(directory / "202101*.nc"), out=tmp_path / "glob.nc")
    shuffled = [january[i] for i in np.random.default_rng(0).permutation(len(january))]
    by_paths = reconstruct(tiny_model, *shuffled, out=tmp_path / "paths.nc")  # as a shell expands a glob, in any order
    check_against_truth(by_glob, daily.isel(time=slice(0, 31)), truth)
    assert by_glob.sizes["time"] == 1 and len(by_glob.attrs["input_files"].split()) == 31
    for name in ("sst", "sst_uncertainty", "nobs"):
        np.testing.assert_array_equal(by_paths[name].values, by_glob[name].values)


@pytest.mark.parametrize(("variable", "units", "standard_name"), [
    ("sea_surface_foundation_temperature", "K", "sea_surface_foundation_temperature"),
    ("analysed_sst", "kelvin", "sea_surface_foundation_temperature"),
    ("sst", "K", "sea_surface_temperature"),  # no standard_name in the file: found by its name
])
def test_ghrsst_variants_and_a_descending_latitude(variable, units, standard_name, region, tiny_model, tmp_path):
    daily, truth = region
    january = daily.isel(time=slice(0, 31))
    write_ghrsst_l3(january, tmp_path / "in", variable=variable, units=units, lat_descending=True)
    ds = reconstruct(tiny_model, tmp_path / "in", out=tmp_path / "out.nc")
    assert ds["lat"].values[0] > ds["lat"].values[-1], "the output keeps the input's grid"
    check_against_truth(ds, january, truth, flip_lat=True)
    assert ds["sst"].attrs["standard_name"] == standard_name


def test_min_quality_changes_which_retrievals_count(l3_files, region, tiny_model, tmp_path):
    daily, _ = region
    january, directory = daily.isel(time=slice(0, 31)), l3_files[0].parent
    ds = reconstruct(tiny_model, str(directory / "202101*.nc"), out=tmp_path / "q1.nc", options=["--min-quality", "1"])
    ocean = np.isfinite(ds["sst"].values)
    at_least_1, at_least_4 = expected_nobs(january, min_quality=1), expected_nobs(january, min_quality=4)
    np.testing.assert_array_equal(ds["nobs"].values[ocean], at_least_1[ocean])
    assert (at_least_1 >= at_least_4).all() and at_least_1.sum() > at_least_4.sum()


def test_prepare_reads_the_same_files(l3_files, region, tmp_path):
    daily, truth = region
    target = write_netcdf(truth, tmp_path / "truth.nc")
    args = ["prepare", str(l3_files[0].parent), "--target", str(target), "--out", str(tmp_path / "store.nc")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with xr.open_dataset(tmp_path / "store.nc") as store:
        ocean = ~store["land_mask"].values.astype(bool)
        np.testing.assert_array_equal(store["nobs"].values[:, ocean], expected_nobs(daily)[:, ocean])
        np.testing.assert_allclose(store["target"].values[:, ocean], truth["sst"].values[:, ocean], atol=1e-4)


def test_opening_many_files_is_lazy(l3_files):
    with raise_if_dask_computes():
        daily = open_daily(l3_files[0].parent)
        assert isinstance(daily.sst.data, dask.array.Array)
        assert daily.sst.chunks == ((1,) * 59, (32,), (48,)), "one day per chunk"
        assert daily.sst.dtype == np.float32
        with pytest.raises(InputError, match="dask computes"):
            daily.validity()  # the guard does catch a computation (reported as unreadable data)
    assert daily.validity().per_day.size == 59


class raise_if_dask_computes:
    """Fail if dask computes anything inside the block (as xarray's own tests do)."""

    def __enter__(self):
        def scheduler(dsk, keys, **kwargs):
            raise RuntimeError("dask computes: data were loaded where they should stay lazy")
        self._config = dask.config.set(scheduler=scheduler)
        self._config.__enter__()

    def __exit__(self, *exc):
        self._config.__exit__(*exc)


# --------------------------------------------------------------------- ERA5 and CMIP


@pytest.mark.parametrize("celsius", [False, True])
def test_era5_like_cube_latitude_descending_longitude_0_360(celsius, region, tiny_model, tmp_path):
    daily, truth = region
    path = write_era5_like(daily, tmp_path / "era5.nc", celsius=celsius, with_lsm=celsius)
    ds = reconstruct(tiny_model, path, out=tmp_path / "out.nc")
    assert ds["lat"].values[0] > ds["lat"].values[-1] and ds["lon"].values.min() > 180, "the input's grid, unchanged"
    check_against_truth(ds, daily, truth, flip_lat=True)
    if celsius:
        assert ds.attrs["land_mask_source"] == "land-mask variable in the input"  # lsm, read at its first time


@pytest.mark.parametrize(("calendar", "february"), [("noleap", 28), ("360_day", 30), ("all_leap", 29)])
def test_cmip_tos_in_its_own_calendar(calendar, february, tiny_model, tmp_path):
    lat, lon = make_grid(40.0, 48.0, -60.0, -48.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=3, calendar=calendar)
    path = write_cmip_tos(daily, tmp_path / f"tos_Oday_{calendar}.nc")
    ds = reconstruct(tiny_model, path, out=tmp_path / "out.nc")
    check_against_truth(ds, daily, truth)
    assert ds["time"].encoding["calendar"] == calendar
    starts, ends = ds["time_bnds"].values[:, 0], ds["time_bnds"].values[:, 1]
    assert [(t.year, t.month, t.day) for t in starts] == [(2021, 1, 1), (2021, 2, 1)]
    assert (ends[1] - starts[1]).days == february, "months follow the file's own calendar"
    assert np.nanmax(ds["nobs"].values[1]) <= february and np.nanmax(ds["nobs"].values[0]) <= 31


def test_var_overrides_the_search(region, tiny_model, tmp_path):
    daily, truth = region
    ds = daily.isel(time=slice(0, 31)).rename({"sst": "water_temp"})
    ds["water_temp"] = (ds["water_temp"] - 273.15).assign_attrs(units="degree_Celsius", standard_name="unknown")
    path = write_netcdf(ds, tmp_path / "in.nc")
    out = reconstruct(tiny_model, path, out=tmp_path / "out.nc", options=["--var", "water_temp"])
    check_against_truth(out, ds.rename({"water_temp": "sst"}), truth)


# -------------------------------------------------------------------- land and gaps


def test_persistent_cloud_and_never_observed_ocean_are_filled(region, tiny_model, tmp_path):
    daily, truth = region
    sst = daily["sst"].values.copy()
    sst[:31, 10:16, 30:38] = np.nan  # a month of persistent cloud over open ocean
    sst[:, 20:23, 40:44] = np.nan  # ocean never observed on any day of the input
    ocean = np.isfinite(truth["sst"].values[0])
    assert ocean[10:16, 30:38].all() and ocean[20:23, 40:44].all()
    path = write_netcdf(daily.assign(sst=(daily["sst"].dims, sst, daily["sst"].attrs)), tmp_path / "in.nc")
    ds = reconstruct(tiny_model, path, out=tmp_path / "out.nc")
    assert (ds["nobs"].values[0, 10:16, 30:38] == 0).all() and (ds["nobs"].values[:, 20:23, 40:44] == 0).all()
    assert np.isfinite(ds["sst"].values[:, ocean]).all(), "no ocean pixel stays empty"
    assert ds.attrs["land_mask_source"] == "never-observed pixels that the bundled coastline calls land"


def test_land_from_a_mask_file_or_the_bundled_coastline(region, tiny_model, tmp_path):
    daily, _ = region
    january = write_netcdf(daily.isel(time=slice(0, 31)), tmp_path / "in.nc")
    land = land_mask(daily["lat"].values, daily["lon"].values).astype(np.int8)
    land[:8, :8] = 1  # the mask decides, even over observed ocean
    mask = xr.Dataset({"land_mask": (("lat", "lon"), land, {"long_name": "land (1) or sea (0)"})},
                      coords={"lat": daily["lat"], "lon": daily["lon"]})
    mask_path = write_netcdf(mask, tmp_path / "mask.nc")
    ds = reconstruct(tiny_model, january, out=tmp_path / "masked.nc", options=["--land-mask", mask_path])
    np.testing.assert_array_equal(np.isnan(ds["sst"].values[0]), land.astype(bool))
    assert ds.attrs["land_mask_source"] == f"land-mask file {mask_path}"
    ds = reconstruct(tiny_model, january, out=tmp_path / "coast.nc", options=["--land-mask", "coastline"])
    np.testing.assert_array_equal(np.isnan(ds["sst"].values[0]), land_mask(ds["lat"].values, ds["lon"].values))


def test_land_from_the_land_bit_of_ghrsst_l2p_flags(region, tiny_model, tmp_path):
    import netCDF4
    daily, _ = region
    paths = write_ghrsst_l3(daily.isel(time=slice(0, 31)), tmp_path / "in")
    for path in paths:  # another bit set everywhere must not count; the land bit decides, even over observed ocean
        with netCDF4.Dataset(path, "a") as nc:
            flags = nc["l2p_flags"][0]
            flags[:8, :8] |= 2
            nc["l2p_flags"][0] = flags | 4
    land = land_mask(daily["lat"].values, daily["lon"].values)
    land[:8, :8] = True
    ds = reconstruct(tiny_model, tmp_path / "in", out=tmp_path / "out.nc")
    np.testing.assert_array_equal(np.isnan(ds["sst"].values[0]), land)
    assert ds.attrs["land_mask_source"] == "land-mask variable in the input"


# --------------------------------------------------------------------- global grids


def seam_ratio(field):
    """Mean jump between the last and first columns over the median jump between neighbouring columns."""
    jumps = np.abs(np.diff(field, axis=-1)).reshape(-1, field.shape[-1] - 1)
    neighbours = [np.mean(column[np.isfinite(column)]) for column in jumps.T if np.isfinite(column).any()]
    return float(np.nanmean(np.abs(field[..., 0] - field[..., -1])) / np.median(neighbours))


@pytest.mark.parametrize("layout", ["-180..180", "0..360 ERA5-like"])
def test_global_grid_has_no_seam(layout, tiny_model, tmp_path):
    lat, lon = make_grid(-28.0, 28.0, -180.0, 180.0, 1.0)  # global in longitude at 1 degree; a band keeps it fast
    daily, truth = synthetic_sst(lat, lon, n_months=1, seed=5)
    if layout == "-180..180":
        path, roll = write_netcdf(daily, tmp_path / "global.nc"), 0
    else:
        path, roll = write_era5_like(daily, tmp_path / "global.nc"), 180
    ds = reconstruct(tiny_model, path, out=tmp_path / "out.nc")
    assert ds.sizes["lon"] == 360
    check_against_truth(ds, daily, truth, flip_lat=roll != 0, roll_lon=roll)
    assert seam_ratio(ds["sst"].values) < 1.5  # 0.9-1.1 here; the generator's truth wraps the same way


def with_first_meridian_repeated(ds):
    """The dataset with its first longitude stored again at the end, + 360 (as tools that close the circle write it)."""
    first = ds.isel(lon=[0]).assign_coords(lon=ds["lon"].values[:1] + 360.0)
    return xr.concat([ds, first], dim="lon", data_vars="minimal", coords="minimal")


def test_a_repeated_first_meridian_is_read_once(tiny_model, tmp_path):
    lat, lon = make_grid(-20.0, 20.0, -180.0, 180.0, 2.0)
    daily, truth = synthetic_sst(lat, lon, n_months=1, seed=5)
    land = np.isnan(truth["sst"].values[0])
    # a land mask inside the file, stored (lon, lat): it is oriented and cut like the SST
    repeated = with_first_meridian_repeated(daily.assign(land_mask=(("lon", "lat"), land.T.astype(np.int8))))
    assert repeated.sizes["lon"] == lon.size + 1
    daily_path = write_netcdf(repeated, tmp_path / "daily.nc")
    ds = reconstruct(tiny_model, daily_path, out=tmp_path / "out.nc")
    np.testing.assert_array_equal(ds["lon"].values, lon)
    assert ds.attrs["land_mask_source"] == "land-mask variable in the input"
    np.testing.assert_array_equal(np.isnan(ds["sst"].values[0]), land)
    check_against_truth(ds, daily, truth)
    assert seam_ratio(ds["sst"].values) < 1.5
    truth_path = write_netcdf(with_first_meridian_repeated(truth), tmp_path / "truth.nc")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "out.nc"), str(truth_path), "--input", str(daily_path),
                                 "--no-dineof", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["methods"]
    assert scores["sstfill"]["overall"]["n"] == (~land).sum()
    assert scores["composite_filled"]["overall"]["n"] == (~land).sum()


def test_a_global_land_mask_file_for_a_regional_input(region, tiny_model, tmp_path):
    daily, _ = region
    lat, lon = make_grid(-89.5, 89.5, 0.0, 360.0, 0.25)  # the region's 0.25 degree points, and more
    global_land = land_mask(lat, lon)
    mask = with_first_meridian_repeated(xr.Dataset({"lsm": (("lat", "lon"), global_land.astype(np.float32))},
                                                   coords={"lat": lat, "lon": lon}))
    mask_path = write_netcdf(mask, tmp_path / "global_mask.nc")
    ds = reconstruct(tiny_model, write_netcdf(daily.isel(time=slice(0, 31)), tmp_path / "in.nc"),
                     out=tmp_path / "out.nc", options=["--land-mask", mask_path])
    np.testing.assert_array_equal(np.isnan(ds["sst"].values[0]), land_mask(daily["lat"].values, daily["lon"].values))


def test_regional_grid_past_180_degrees(tiny_model, tmp_path):
    lat, lon = make_grid(-8.0, 8.0, 160.0, 200.0, 0.5)
    daily, truth = synthetic_sst(lat, lon, n_months=1, seed=5)
    ds = reconstruct(tiny_model, write_netcdf(daily, tmp_path / "in.nc"), out=tmp_path / "out.nc")
    np.testing.assert_array_equal(ds["lon"].values, lon)
    check_against_truth(ds, daily, truth)
    # the same region as a -180..180 file stores it: 160..180 then -180..-160
    wrapped = daily.assign_coords(lon=(lon + 180.0) % 360.0 - 180.0)
    again = reconstruct(tiny_model, write_netcdf(wrapped, tmp_path / "wrapped.nc"), out=tmp_path / "again.nc")
    np.testing.assert_allclose(again["lon"].values, lon)
    np.testing.assert_allclose(again["sst"].values, ds["sst"].values, atol=1e-5)


class TileRamp(torch.nn.Module):
    """A stand-in model whose residual ramps 0 -> 1 K across every tile: unblended tile edges show as 1 K jumps."""

    input_mean, input_std, target_mean, target_std = 0.0, 1.0, 0.0, 1.0

    def forward(self, x, daily_mask, padded_days_mask, land_mask, month_of_year, baseline):
        batch, months, (height, width) = x.shape[0], padded_days_mask.shape[1], x.shape[-2:]
        mean = torch.linspace(0.0, 1.0, width).expand(batch, months, height, width)
        return mean, torch.zeros_like(mean)


@pytest.mark.parametrize("wraps", [True, False])
def test_tiles_wrap_across_the_date_line(wraps, monkeypatch, tmp_path):
    """With tiles wrapping, the seam is blended like any tile overlap; the control without wrapping shows the jump."""
    import logging

    import sstfill.reconstruct as stage

    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # a CliRunner's closed stream may be left there

    lat, lon = make_grid(-16.0, 16.0, -180.0, 180.0, 1.0)
    daily, _ = synthetic_sst(lat, lon, n_months=1, seed=5, cloud_cover=0.3)
    path = write_netcdf(daily, tmp_path / "global.nc")
    fake = LoadedModel(model=TileRamp(), config=ModelConfig(), contract=DataContract(tile_size=32),
                       model_id="tile-ramp", training={}, sstfill_version="test")
    monkeypatch.setattr(stage, "load_model", lambda *args, **kwargs: fake)
    if not wraps:
        monkeypatch.setattr(DailyInput, "periodic_x", property(lambda self: False))
    stage.reconstruct(path, tmp_path / "out.nc", device="cpu", check=False)  # the tiles as they are, seams included
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        sst = ds["sst"].values
    ratio = seam_ratio(sst)  # about 1.1 wrapped, 6 not
    assert ratio < 1.5 if wraps else ratio > 3.0, f"seam / median neighbouring-column jump = {ratio:.2f}"
