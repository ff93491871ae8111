"""The output is CF-1.8 and ACDD-1.3: checked by an independent checker and by a write-and-reopen round trip.

The checker is the IOOS compliance-checker (``cchecker.py --test cf:1.8``), run offline
with its bundled standard-name table. Outputs come from the CLI with a tiny model, for a
plain float file, ``--pack``, a 360_day calendar and an ERA5-like grid (latitude descending,
longitude 0..360).
"""

import json
import sys
import warnings

import netCDF4
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sstfill import __version__
from sstfill.cli import app
from sstfill.testing import make_grid, synthetic_sst, write_cmip_tos, write_era5_like, write_netcdf

runner = CliRunner()
CFTIME = xr.coders.CFDatetimeCoder(use_cftime=True)


@pytest.fixture(scope="module")
def outputs(tiny_model, tmp_path_factory):
    """name -> (output path, the command line that made it)."""
    root = tmp_path_factory.mktemp("cf_output")
    lat, lon = make_grid(40.0, 48.0, -60.0, -48.0, 0.25)
    daily, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=3)
    noleap, _ = synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=3, calendar="360_day")
    inputs = {
        "float": (write_netcdf(daily, root / "daily.nc"), []),
        "pack": (root / "daily.nc", ["--pack"]),
        "360_day": (write_cmip_tos(noleap, root / "tos_360_day.nc"), []),
        "era5": (write_era5_like(daily, root / "era5.nc"), []),
    }
    made = {}
    for name, (source, options) in inputs.items():
        out = root / f"monthly_{name}.nc"
        args = ["reconstruct", str(source), str(out), "--model", str(tiny_model), "--device", "cpu", *options]
        argv, sys.argv = sys.argv, ["sstfill", *args]  # as the shell hands them to the sstfill script
        try:
            result = runner.invoke(app, args)
        finally:
            sys.argv = argv
        assert result.exit_code == 0, result.output
        made[name] = (out, "sstfill " + " ".join(args))
    return made


def checker_report(path, test, tmp_path):
    """(findings that lost points, UserWarnings the checker raised) for one compliance-checker test."""
    runner_module = pytest.importorskip(
        "compliance_checker.runner", reason="compliance-checker is not installed (pip install compliance-checker)")
    report_path = tmp_path / f"{path.stem}-{test.replace(':', '_')}.json"
    # the checker's own deprecation notices are recorded, not shown
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner_module.CheckSuite.load_all_available_checkers()
        runner_module.ComplianceChecker.run_checker(str(path), [test], 0, "strict", output_filename=str(report_path),
                                                    output_format="json")
    report = json.loads(report_path.read_text())[test]
    lost = {}
    for priority in ("high_priorities", "medium_priorities", "low_priorities"):
        lost[priority] = [f"{item['name']}: {'; '.join(item['msgs'])}" for item in report[priority]
                          if item["value"][0] < item["value"][1]]
    user_warnings = [str(w.message) for w in caught if w.category is UserWarning]
    return lost, user_warnings


@pytest.mark.parametrize("name", ["float", "pack", "360_day", "era5"])
def test_compliance_checker_cf_1_8_reports_no_failures(outputs, name, tmp_path):
    lost, user_warnings = checker_report(outputs[name][0], "cf:1.8", tmp_path)
    assert lost == {"high_priorities": [], "medium_priorities": [], "low_priorities": []}
    assert user_warnings == []  # e.g. deprecated standard_name modifiers


def test_acdd_1_3_highly_recommended_attributes_pass(outputs, tmp_path):
    lost, _ = checker_report(outputs["float"][0], "acdd:1.3", tmp_path)
    assert lost["high_priorities"] == []
    # What remains is what only the data's publisher can say (institution, license, creator_email, id, ...)
    # and the checker comparing time_coverage_* with time[0]/time[-1] (mid-month) instead of time_bnds.
    assert all("not present" in item or item.startswith(("time_coverage_extents_match", "Global"))
               for item in lost["medium_priorities"]), lost["medium_priorities"]


def test_round_trip_with_xarray(outputs):
    path, command = outputs["float"]
    with xr.open_dataset(path) as ds:
        assert ds["sst"].dims == ("time", "lat", "lon") and ds.sizes["time"] == 2
        bounds = ds["time_bnds"].values
        assert np.issubdtype(bounds.dtype, np.datetime64), "time_bnds decode as times"
        np.testing.assert_array_equal(bounds[:, 0], np.array(["2021-01-01", "2021-02-01"], "datetime64[ns]"))
        np.testing.assert_array_equal(bounds[:, 1], np.array(["2021-02-01", "2021-03-01"], "datetime64[ns]"))
        assert ((ds["time"].values > bounds[:, 0]) & (ds["time"].values < bounds[:, 1])).all()
        sst = ds["sst"]
        assert sst.attrs["units"] == "K" and sst.attrs["standard_name"] == "sea_surface_temperature"
        assert sst.attrs["cell_methods"] == "time: mean"
        assert sst.attrs["valid_min"] < np.nanmin(sst.values) and np.nanmax(sst.values) < sst.attrs["valid_max"]
        assert sst.encoding["_FillValue"] == np.float32(9.96921e36) and sst.encoding["zlib"]
        assert sst.encoding["chunksizes"] == (1, ds.sizes["lat"], ds.sizes["lon"]), "one map per chunk"
        ancillary = sst.attrs["ancillary_variables"].split()
        assert ancillary == ["sst_uncertainty", "nobs"] and all(name in ds for name in ancillary)
        assert ds["sst_uncertainty"].attrs["units"] == "K"
        assert (ds["sst_uncertainty"].values[np.isfinite(sst.values)] > 0).all()
        assert ds["nobs"].attrs["standard_name"] == "number_of_observations"
        assert ds["nobs"].encoding["dtype"] == np.int16
        np.testing.assert_array_equal(np.isnan(ds["nobs"].values), np.isnan(sst.values))
        for name in ("lat", "lon"):
            assert ds[name].attrs["standard_name"] in ("latitude", "longitude")
            assert ds[name].attrs["units"] in ("degrees_north", "degrees_east")
        attrs = ds.attrs
        assert attrs["Conventions"] == "CF-1.8, ACDD-1.3" and attrs["title"] and attrs["summary"]
        assert attrs["history"].endswith(command), "history holds the command line"
        assert attrs["source"].startswith(f"sstfill {__version__}, model tiny-")
        assert attrs["date_created"].endswith("Z")
        assert attrs["time_coverage_start"] == "2021-01-01T00:00:00Z"
        assert attrs["time_coverage_end"] == "2021-03-01T00:00:00Z"
        assert attrs["time_coverage_duration"] == "P2M" and attrs["time_coverage_resolution"] == "P1M"
        assert attrs["geospatial_lat_min"] == ds["lat"].values.min()
        assert attrs["geospatial_lon_max"] == ds["lon"].values.max()
        assert attrs["geospatial_bounds"].startswith("POLYGON ((")
    with netCDF4.Dataset(path) as nc:
        for name in ("time", "time_bnds", "lat", "lon"):
            assert "_FillValue" not in nc[name].ncattrs(), f"coordinate {name} has no _FillValue"
        for name in ("sst", "sst_uncertainty", "nobs"):
            assert nc[name].chunking() == [1, nc.dimensions["lat"].size, nc.dimensions["lon"].size]
            assert nc[name].filters()["zlib"]


def test_pack_writes_int16_like_ghrsst_l4(outputs):
    with xr.open_dataset(outputs["pack"][0]) as packed, xr.open_dataset(outputs["float"][0]) as plain:
        enc = packed["sst"].encoding
        assert enc["dtype"] == np.int16 and enc["scale_factor"] == np.float32(0.001)
        assert enc["add_offset"] == np.float32(298.15) and enc["_FillValue"] == -32768
        np.testing.assert_array_equal(np.isnan(packed["sst"].values), np.isnan(plain["sst"].values))
        np.testing.assert_allclose(packed["sst"].values, plain["sst"].values, atol=0.0006, equal_nan=True)
        np.testing.assert_array_equal(packed["nobs"].values, plain["nobs"].values)


def test_non_standard_calendar_and_grid_orientation_round_trip(outputs):
    with xr.open_dataset(outputs["360_day"][0], decode_times=CFTIME) as ds:
        assert ds["time"].encoding["calendar"] == "360_day"
        start, end = ds["time_bnds"].values[1]
        assert (end - start).days == 30 and ds.attrs["time_coverage_end"] == "2021-03-01T00:00:00Z"
    with xr.open_dataset(outputs["era5"][0]) as ds:
        assert ds["lat"].values[0] > ds["lat"].values[-1] and ds["lon"].values.min() > 180
        assert ds.attrs["geospatial_lon_min"] == ds["lon"].values.min() > 180
