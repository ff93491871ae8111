"""Bad input through the CLI: one line saying what was expected, what was found and what to do;
exit code 1; no traceback; and nothing written, not even a temporary file."""

import netCDF4
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sstfill.cli import app
from sstfill.testing import make_grid, synthetic_sst, write_ghrsst_l3, write_netcdf

runner = CliRunner()


@pytest.fixture(scope="module")
def daily():
    """One month of daily SST, 16 x 24 pixels at 0.25 degree, from the generator."""
    lat, lon = make_grid(40.0, 44.0, -60.0, -54.0, 0.25)
    return synthetic_sst(lat, lon, start="2021-01-01", n_months=1, seed=3)[0]


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def fails(command, *args, fragments, out_dir, before=()):
    """Run the CLI; check exit code 1, one error line holding every fragment, no traceback, no new file in out_dir."""
    result = runner.invoke(app, [command, *map(str, args)])
    output = result.output
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), f"unexpected {result.exception!r}"
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.startswith("sstfill: error: ")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(before), "nothing written, no temporary file left"
    return lines[0]


def reconstruct_fails(model, inputs, out_dir, fragments, *options, before=()):
    inputs = inputs if isinstance(inputs, list) else [inputs]
    return fails("reconstruct", *inputs, out_dir / "monthly.nc", "--model", model, "--device", "cpu", *options,
                 fragments=fragments, out_dir=out_dir, before=before)


def test_no_sst_like_variable(daily, dirs, tiny_model):
    src, out = dirs
    ds = daily.rename({"sst": "chlor_a"})
    ds["chlor_a"].attrs = {"units": "mg m-3", "standard_name": "mass_concentration_of_chlorophyll_a_in_sea_water"}
    path = write_netcdf(ds, src / "chl.nc")
    reconstruct_fails(tiny_model, path, out, ["expected an SST variable", "found ['chlor_a', 'quality_level']",
                                              "name it with --var"])


def test_no_time_dimension(daily, dirs, tiny_model):
    src, out = dirs
    path = write_netcdf(daily.isel(time=0, drop=True), src / "one_day.nc")
    reconstruct_fails(tiny_model, path, out, ["expected 'sst'", "to have a time dimension",
                                              "found dimensions ('lat', 'lon')", "add the date as a time dimension"])


def test_curvilinear_grid(daily, dirs, tiny_model):
    src, out = dirs
    ds = daily.rename({"lat": "y", "lon": "x"})
    lat2d, lon2d = np.meshgrid(ds["y"].values, ds["x"].values, indexing="ij")
    lat2d = lat2d + 0.01 * np.arange(lon2d.shape[1])  # rotated: latitude varies along x too
    ds = ds.drop_vars(["y", "x"]).assign_coords(
        lat=(("y", "x"), lat2d, {"standard_name": "latitude", "units": "degrees_north"}),
        lon=(("y", "x"), lon2d, {"standard_name": "longitude", "units": "degrees_east"}))
    path = write_netcdf(ds, src / "curvilinear.nc")
    reconstruct_fails(tiny_model, path, out, ["expected 1-D latitude/longitude", "found 2-D lat('y', 'x')",
                                              "curvilinear grid", "does not support",
                                              "regrid to a regular lat/lon grid"])


def test_files_on_different_grids(daily, dirs, tiny_model):
    src, out = dirs
    write_netcdf(daily.isel(time=slice(0, 10)), src / "a.nc")
    write_netcdf(daily.isel(time=slice(10, 20), lon=slice(0, 20)), src / "b.nc")
    reconstruct_fails(tiny_model, src, out, ["expected all input files on one grid", "found a.nc on 16x24",
                                             "and b.nc on 16x20", "regrid them to a common grid"])


def test_duplicate_days(daily, dirs, tiny_model):
    src, out = dirs
    write_netcdf(daily.isel(time=slice(0, 10)), src / "a.nc")
    write_netcdf(daily.isel(time=slice(8, 20)), src / "b.nc")
    reconstruct_fails(tiny_model, str(src / "*.nc"), out, ["expected one field per day", "2021-01-09, 2021-01-10",
                                                           "remove the duplicate files or days"])


def test_no_valid_data_at_all(daily, dirs, tiny_model):
    src, out = dirs
    path = write_netcdf(daily.assign(sst=daily["sst"].where(False)), src / "empty.nc")
    reconstruct_fails(tiny_model, path, out, ["expected valid SST values in", "found none at all",
                                              "check --var, the variable's _FillValue and --min-quality"])


def test_no_valid_data_after_the_quality_threshold(daily, dirs, tiny_model):
    src, out = dirs
    paths = write_ghrsst_l3(daily.assign(quality_level=daily["quality_level"].clip(max=3)), src)
    line = reconstruct_fails(tiny_model, src, out, ["found none at all", "has quality_level below --min-quality 4"])
    assert f"{paths[0]} and 30 more files" in line


def test_a_month_without_valid_data_is_named(dirs, tiny_model):
    src, out = dirs
    lat, lon = make_grid(40.0, 44.0, -60.0, -54.0, 0.25)
    ds, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=3, seed=3)
    february = ds["time"].dt.month == 2
    path = write_netcdf(ds.assign(sst=ds["sst"].where(~february)), src / "daily.nc")
    reconstruct_fails(tiny_model, path, out, ["expected valid SST in every month", "found none in 2021-02",
                                              "drop those days from the input"])


def test_unreadable_or_truncated_netcdf(daily, dirs, tiny_model):
    src, out = dirs
    garbage = src / "notes.nc"
    garbage.write_text("this is not a NetCDF file\n")
    reconstruct_fails(tiny_model, garbage, out, [f"expected a NetCDF file at {garbage}", "neither NetCDF nor HDF5",
                                                 "pass the NetCDF files only"])
    good = write_netcdf(daily, src / "good.nc")
    truncated = src / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    reconstruct_fails(tiny_model, truncated, out, [f"{truncated} is truncated: expected {good.stat().st_size} bytes",
                                                   "re-download"])


def test_corrupt_data_in_one_of_many_files_is_named(daily, dirs, tiny_model):
    """The header reads, the data do not: found while scanning, before any output exists."""
    src, out = dirs
    write_netcdf(daily.isel(time=slice(0, 15)), src / "a.nc")
    broken = write_netcdf(daily.isel(time=slice(15, None)), src / "b.nc")
    corrupt_compressed_data(broken)
    reconstruct_fails(tiny_model, src, out, [f"could not read the SST values in {broken}", "NetCDF: HDF error",
                                             "re-download or regenerate it"])


def corrupt_compressed_data(path):
    """Overwrite 512 bytes somewhere in the compressed SST so the file opens but its data cannot be read."""
    original = path.read_bytes()
    for fraction in np.linspace(0.3, 0.9, 25):
        data = bytearray(original)
        at = int(len(data) * fraction)
        data[at:at + 512] = b"\xff" * 512
        path.write_bytes(bytes(data))
        try:
            nc = netCDF4.Dataset(path)
        except OSError:
            continue  # that hit the header
        try:
            nc["sst"][:]
        except (OSError, RuntimeError):
            return
        finally:
            nc.close()
    raise AssertionError(f"found no place in {path} to corrupt the data but not the header")


def test_non_monotonic_coordinates(daily, dirs, tiny_model):
    src, out = dirs
    lat = daily["lat"].values.copy()
    lat[[3, 4]] = lat[[4, 3]]
    path = write_netcdf(daily.assign_coords(lat=lat), src / "unsorted.nc")
    reconstruct_fails(tiny_model, path, out, ["expected lat", "to be strictly monotonic", "found repeated or unordered",
                                              "sort the file along lat"])


def test_unknown_units(daily, dirs, tiny_model):
    src, out = dirs
    ds = daily.copy()
    ds["sst"].attrs["units"] = "degF"
    path = write_netcdf(ds, src / "fahrenheit.nc")
    reconstruct_fails(tiny_model, path, out, ["expected SST units of kelvin (K) or degrees Celsius (degC)",
                                              "found 'degF'", "set the variable's units attribute"])


def test_celsius_values_labelled_kelvin(daily, dirs, tiny_model):
    src, out = dirs
    ds = daily.assign(sst=daily["sst"] - 273.15)  # still says units K
    path = write_netcdf(ds, src / "mislabelled.nc")
    reconstruct_fails(tiny_model, path, out, ["expected SST values within 268.15..318.15 K, found none",
                                              "check the variable's units attribute (K or degC)"])


def test_output_equal_to_an_input(daily, dirs, tiny_model):
    src, _ = dirs
    path = write_netcdf(daily, src / "daily.nc")
    before = path.read_bytes()
    fails("reconstruct", src, path, "--model", tiny_model, "--overwrite", fragments=[
        "expected an output path different from the inputs", f"found {path} among them", "choose another output name"],
        out_dir=src, before=["daily.nc"])
    assert path.read_bytes() == before


def test_existing_output_without_overwrite(daily, dirs, tiny_model):
    src, out = dirs
    path = write_netcdf(daily, src / "daily.nc")
    existing = out / "monthly.nc"
    existing.write_text("an earlier result\n")
    reconstruct_fails(tiny_model, path, out, [f"output {existing} already exists", "pass --overwrite"],
                      before=["monthly.nc"])
    assert existing.read_text() == "an earlier result\n"


def test_missing_inputs_and_output_locations(daily, dirs, tiny_model):
    src, out = dirs
    reconstruct_fails(tiny_model, src / "nope.nc", out,
                      ["expected an input file at", "found nothing", "check the path"])
    reconstruct_fails(tiny_model, str(src / "*.nc"), out,
                      ["expected files matching", "found none", "check the pattern"])
    path = write_netcdf(daily, src / "daily.nc")
    fails("reconstruct", path, out, "--model", tiny_model, out_dir=out, fragments=[
        "expected an output file name", f"found the directory {out}", "name a file"])
    fails("reconstruct", path, out / "missing" / "monthly.nc", "--model", tiny_model, out_dir=out, fragments=[
        "expected the output directory", "create it first"])


def test_prepare_refuses_an_input_without_valid_data(daily, dirs, tmp_path):
    src, out = dirs
    path = write_netcdf(daily.assign(sst=daily["sst"].where(False)), src / "empty.nc")
    target = xr.Dataset({"sst": (("time", "lat", "lon"), np.full((1, 16, 24), 290.0, np.float32), {"units": "K"})},
                        coords={"time": daily["time"].values[:1], "lat": daily["lat"], "lon": daily["lon"]})
    target_path = write_netcdf(target, src / "target.nc")
    fails("prepare", path, "--target", target_path, "--out", out / "store.nc", out_dir=out,
          fragments=["expected valid SST values in", "found none at all"])


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failure_while_writing_leaves_the_old_output_and_no_temporary_file(error, daily, dirs, tiny_model,
                                                                            monkeypatch):
    import sstfill.reconstruct as stage

    src, out = dirs
    lat, lon = make_grid(40.0, 44.0, -60.0, -54.0, 0.25)
    two_months, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=3)
    path = write_netcdf(two_months, src / "daily.nc")
    existing = out / "monthly.nc"
    existing.write_text("an earlier result\n")
    calls = []
    predict = stage.predict_window

    def fail_on_second_month(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return predict(*args, **kwargs)

    monkeypatch.setattr(stage, "predict_window", fail_on_second_month)
    with pytest.raises(type(error)):
        stage.reconstruct(path, existing, model=tiny_model, device="cpu", overwrite=True)
    assert len(calls) == 2, "the output was being written when it failed"
    assert [p.name for p in out.iterdir()] == ["monthly.nc"] and existing.read_text() == "an earlier result\n"
