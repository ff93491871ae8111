"""`sstfill synth` writes every input form sstfill reads, and the truth on the same grid."""

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sstfill.checkpoint import load_model
from sstfill.cli import app
from sstfill.io.read import open_daily

runner = CliRunner()


@pytest.mark.parametrize(("form", "calendar"), [("cube", "standard"), ("ghrsst", "standard"), ("era5", "standard"),
                                            ("cmip", "360_day")])
def test_each_form_reads_back_on_the_truth_grid(tmp_path, form, calendar):
    out = tmp_path / form
    result = runner.invoke(app, ["synth", str(out), "--region", "30", "38", "150", "162", "--resolution", "0.5",
                                 "--months", "1", "--form", form, "--calendar", calendar, "--seed", "2"])
    assert result.exit_code == 0, result.output
    daily = open_daily(out / "daily" if form == "ghrsst" else out / "daily.nc")
    with xr.open_dataset(out / "truth.nc") as truth:
        assert np.allclose(daily.lat, truth["lat"].values) and np.allclose(daily.lon, truth["lon"].values)
        assert daily.sst.sizes["time"] == (30 if calendar == "360_day" else 31)
        assert daily.calendar == calendar or (calendar == "standard"
                                              and daily.calendar in ("proleptic_gregorian", "gregorian"))
        ocean = np.isfinite(truth["sst"].values[0])
        seen = np.isfinite(daily.sst.values).any(axis=0)
        assert ocean.mean() > 0.3 and (seen <= ocean).all()


def test_bad_requests_are_one_line_errors(tmp_path):
    result = runner.invoke(app, ["synth", str(tmp_path / "a"), "--form", "grib"])
    assert result.exit_code == 1 and "expected a form among" in result.output
    result = runner.invoke(app, ["synth", str(tmp_path / "b"), "--start", "2021-01-15"])
    assert result.exit_code == 1 and "cannot generate" in result.output
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("")
    result = runner.invoke(app, ["synth", str(tmp_path / "c")])
    assert result.exit_code == 1 and "empty or new directory" in result.output


def test_reconstruct_works_out_of_the_box_with_the_bundled_model(tmp_path):
    synth = ["synth", str(tmp_path / "s"), "--region", "40", "48", "-30", "-18", "--months", "1"]
    assert runner.invoke(app, synth).exit_code == 0
    result = runner.invoke(app, ["reconstruct", str(tmp_path / "s" / "daily.nc"), str(tmp_path / "out.nc"),
                                 "--device", "cpu"])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(tmp_path / "out.nc") as out, xr.open_dataset(tmp_path / "s" / "truth.nc") as truth:
        ocean = np.isfinite(truth["sst"].values)
        assert np.isfinite(out["sst"].values[ocean]).all()
        assert out.attrs["model_id"] == load_model().model_id  # the bundled default
        assert out.attrs["model_training_mode"] == "supervised" and "comment" not in out["sst_uncertainty"].attrs
        assert float(np.sqrt(np.nanmean((out["sst"].values - truth["sst"].values) ** 2))) < 1.0
