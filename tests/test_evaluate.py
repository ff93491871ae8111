import numpy as np
import pytest
import xarray as xr

from sstfill.errors import InputError
from sstfill.evaluate import ErrorStats, MethodScore, evaluate, render_table


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


def test_error_stats_against_numpy():
    rng = np.random.default_rng(0)
    error = rng.normal(0.1, 0.5, size=1000)
    stats = ErrorStats()
    stats.add(error[:400])
    stats.add(error[400:])
    out = stats.as_dict()
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean(error**2)))
    assert out["mae"] == pytest.approx(np.mean(np.abs(error)))
    assert out["bias"] == pytest.approx(np.mean(error))


def test_calibration_and_nobs_classes():
    score = MethodScore()
    reference = np.zeros((2, 2))
    estimate = np.array([[0.5, 1.5], [2.5, np.nan]])
    score.add("2021-01", estimate, reference, nobs=np.array([[0, 3], [7, 12]]), sigma=np.ones((2, 2)))
    out = score.as_dict()
    assert out["coverage"] == pytest.approx(0.75)
    assert out["overall"]["within_1sigma"] == pytest.approx(1 / 3)
    assert out["overall"]["within_2sigma"] == pytest.approx(2 / 3)
    assert out["by_valid_days"]["0"]["n"] == 1 and out["by_valid_days"]["5-9"]["rmse"] == pytest.approx(2.5)
    assert out["fewer_than_5_days"]["n"] == 2
    assert out["fewer_than_5_days"]["rmse"] == pytest.approx(np.sqrt((0.25 + 2.25) / 2))


def test_evaluate_files_and_naive_baselines(tmp_path):
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

    report = evaluate(tmp_path / "recon.nc", tmp_path / "truth.nc", daily_input=[tmp_path / "daily.nc"])
    ours = report["methods"]["sstfill"]
    assert ours["overall"]["rmse"] == pytest.approx(0.1, abs=1e-4) and ours["overall"]["bias"] == pytest.approx(0.1, abs=1e-4)
    assert ours["overall"]["n"] == 2 * 47 and ours["coverage"] == 1.0
    assert ours["overall"]["within_1sigma"] == 1.0
    assert report["methods"]["naive_composite"]["coverage"] == pytest.approx(1 - 1 / 47)
    assert report["methods"]["composite_filled"]["coverage"] == 1.0
    assert set(ours["per_month"]) == {"2021-01", "2021-02"}
    assert render_table(report).row_count > 4


def test_grids_must_match(tmp_path):
    monthly(np.zeros((1, 3, 3)) + 280).to_netcdf(tmp_path / "a.nc")
    monthly(np.zeros((1, 3, 4)) + 280).to_netcdf(tmp_path / "b.nc")
    with pytest.raises(InputError, match="one grid"):
        evaluate(tmp_path / "a.nc", tmp_path / "b.nc")
