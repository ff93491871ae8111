"""The evaluate stage: a reconstruction and the naive baselines (and DINEOF) scored against a reference, and
what it refuses."""

import json
import logging

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sstfill.baselines import dineof as dineof_module
from sstfill.cli import app
from sstfill.errors import InputError
from sstfill.evaluate import evaluate
from sstfill.tables import render_table


def monthly(values, name="sst", nobs=None, sigma=None):
    time = xr.date_range("2021-01-01", periods=values.shape[0], freq="MS")
    ds = xr.Dataset({name: (("time", "lat", "lon"), values.astype(np.float32), {"units": "K"})},
                    coords={"time": time, "lat": np.arange(values.shape[1], dtype=float),
                            "lon": np.arange(values.shape[2], dtype=float)})
    if nobs is not None:
        ds["nobs"] = (("time", "lat", "lon"), nobs.astype(np.int16))
    if sigma is not None:
        ds["sst_uncertainty"] = (("time", "lat", "lon"), sigma.astype(np.float32), {"units": "K"})
    return ds


def write_case(tmp_path):
    """Two months of truth on 6 x 8 pixels (one land), a reconstruction 0.1 K warm, and noisy daily input."""
    rng = np.random.default_rng(1)
    truth = 290 + rng.normal(size=(2, 6, 8))
    truth[:, 0, 0] = np.nan  # land
    recon = truth + 0.1
    monthly(truth).to_netcdf(tmp_path / "truth.nc")
    monthly(recon, nobs=np.full(truth.shape, 3), sigma=np.full(truth.shape, 0.2)).to_netcdf(tmp_path / "recon.nc")
    days = xr.date_range("2021-01-01", "2021-02-28", freq="D")
    month = np.array([0 if d.month == 1 else 1 for d in days.to_pydatetime()])
    daily = truth[month] + rng.normal(0, 0.3, size=(len(days), 6, 8))
    daily[:, 3, 3] = np.nan  # never observed: the naive composite leaves it empty
    xr.Dataset({"sst": (("time", "lat", "lon"), daily.astype(np.float32), {"units": "K"})},
               coords={"time": days, "lat": np.arange(6.0), "lon": np.arange(8.0)}).to_netcdf(tmp_path / "daily.nc")
    return tmp_path / "recon.nc", tmp_path / "truth.nc", tmp_path / "daily.nc"


def test_evaluate_files_and_naive_baselines(tmp_path):
    recon, truth, daily = write_case(tmp_path)
    report = evaluate(recon, truth, daily_input=[daily])
    ours = report["methods"]["sstfill"]
    assert ours["overall"]["rmse"] == pytest.approx(0.1, abs=1e-4)
    assert ours["overall"]["bias"] == pytest.approx(0.1, abs=1e-4)
    assert ours["overall"]["n"] == 2 * 47 and ours["coverage"] == 1.0
    assert ours["overall"]["within_1sigma"] == 1.0
    assert report["methods"]["naive_composite"]["coverage"] == pytest.approx(1 - 1 / 47)
    assert report["methods"]["composite_filled"]["coverage"] == 1.0
    assert set(ours["per_month"]) == {"2021-01", "2021-02"}
    assert render_table(report).row_count > 4


def test_a_daily_reference_is_averaged_to_months(tmp_path):
    time = xr.date_range("2021-01-01", periods=59, freq="D")
    values = np.random.default_rng(2).normal(290.0, 1.0, (59, 4, 5)).astype(np.float32)
    daily = xr.Dataset({"sst": (("time", "lat", "lon"), values, {"units": "K"})},
                       coords={"time": time, "lat": np.arange(4.0), "lon": np.arange(5.0)})
    daily.to_netcdf(tmp_path / "daily_reference.nc")
    means = np.stack([values[:31].mean(axis=0), values[31:].mean(axis=0)])
    monthly(means + 0.1).to_netcdf(tmp_path / "recon.nc")
    report = evaluate(tmp_path / "recon.nc", tmp_path / "daily_reference.nc")
    ours = report["methods"]["sstfill"]
    assert ours["overall"]["n"] == 2 * 20 and ours["overall"]["bias"] == pytest.approx(0.1, abs=1e-4)
    assert ours["overall"]["rmse"] == pytest.approx(0.1, abs=1e-4)


def test_dineof_scored_beside_the_composites(tmp_path):
    recon, truth, daily = write_case(tmp_path)
    report = evaluate(recon, truth, daily_input=[daily])
    assert list(report["methods"]) == ["sstfill", "naive_composite", "composite_filled", "dineof"]
    score = report["methods"]["dineof"]
    assert score["coverage"] == 1.0 and score["overall"]["n"] == 2 * 47
    assert set(score["per_month"]) == {"2021-01", "2021-02"}
    assert 0 < score["overall"]["rmse"] < 1.0
    notes = report["dineof"]["2021-01"]
    assert notes["modes"] >= 1 and tuple(notes["matrix_shape"]) == (46, 31)
    assert notes["unseen_pixels"] == 1
    json.dumps(report)  # what --json prints
    assert any(row == "dineof" for row in render_table(report).columns[0].cells)


def test_no_dineof_and_too_large_dineof_are_skipped(tmp_path, monkeypatch, caplog):
    recon, truth, daily = write_case(tmp_path)
    report = evaluate(recon, truth, daily_input=[daily], dineof=False)
    assert "dineof" not in report["methods"] and "dineof" not in report
    assert "composite_filled" in report["methods"]

    monkeypatch.setattr(dineof_module, "MAX_ENTRIES", 100)
    with caplog.at_level(logging.WARNING, logger="sstfill"):
        report = evaluate(recon, truth, daily_input=[daily])
    assert "dineof" not in report["methods"] and "composite_filled" in report["methods"]
    assert "DINEOF not scored" in caplog.text and "46 pixels x 31 days" in caplog.text


def test_evaluate_command_with_and_without_dineof(tmp_path):
    recon, truth, daily = write_case(tmp_path)
    runner = CliRunner()
    common = ["evaluate", str(recon), str(truth), "--input", str(daily), "--json"]
    with_dineof = runner.invoke(app, common)
    assert with_dineof.exit_code == 0, with_dineof.output
    assert "dineof" in json.loads(with_dineof.stdout)["methods"]
    without = runner.invoke(app, [*common, "--no-dineof"])
    assert without.exit_code == 0, without.output
    assert "dineof" not in json.loads(without.stdout)["methods"]


def test_grids_must_match(tmp_path):
    monthly(np.zeros((1, 3, 3)) + 280).to_netcdf(tmp_path / "a.nc")
    monthly(np.zeros((1, 3, 4)) + 280).to_netcdf(tmp_path / "b.nc")
    with pytest.raises(InputError, match="one grid"):
        evaluate(tmp_path / "a.nc", tmp_path / "b.nc")


def test_a_recon_that_is_not_monthly_is_refused(tmp_path):
    _recon, truth, daily = write_case(tmp_path)
    with pytest.raises(InputError,
                       match=r"expected a monthly reconstruction.*59 time steps in 2 month.*sstfill reconstruct"):
        evaluate(daily, truth)
    days = xr.open_dataset(daily).isel(time=[30, 31])  # January 31 and February 1: one per month, a day apart
    days.to_netcdf(tmp_path / "two_days.nc")
    with pytest.raises(InputError, match="time steps 1 day\\(s\\) apart"):
        evaluate(tmp_path / "two_days.nc", truth)


def test_nothing_to_score_is_refused(tmp_path):
    recon, truth, _ = write_case(tmp_path)
    values = xr.open_dataset(truth)["sst"].values
    monthly(values * np.nan).to_netcdf(tmp_path / "empty.nc")
    with pytest.raises(InputError,
                       match=r"expected valid SST in the reference .*empty.nc over 2021-01..2021-02, found none"):
        evaluate(recon, tmp_path / "empty.nc", plot_dir=tmp_path / "plots")
    assert not (tmp_path / "plots").exists(), "nothing drawn for a refused evaluation"
    with pytest.raises(InputError, match="expected valid SST in the reconstruction"):
        evaluate(tmp_path / "empty.nc", truth)
    half = np.where(np.arange(8) < 4, values, np.nan)
    monthly(half).to_netcdf(tmp_path / "west.nc")
    monthly(np.where(np.arange(8) >= 4, values, np.nan)).to_netcdf(tmp_path / "east.nc")
    with pytest.raises(InputError, match="found none in common"):
        evaluate(tmp_path / "west.nc", tmp_path / "east.nc")
