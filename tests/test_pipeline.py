"""prepare -> train -> reconstruct -> evaluate through the CLI, on CPU, in seconds."""

import json

import numpy as np
import pytest
import torch
import xarray as xr
from typer.testing import CliRunner

from sstfill.checkpoint import load_model
from sstfill.cli import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_prepare_train_reconstruct_evaluate(small_region, tmp_path):
    daily, truth = small_region
    store, model, out = tmp_path / "store.nc", tmp_path / "model.pt", tmp_path / "monthly.nc"

    invoke("prepare", daily, "--target", truth, "--out", store)
    with xr.open_dataset(store) as ds:
        assert ds["daily"].dims == ("month", "day", "lat", "lon") and ds.sizes["day"] == 31
        assert ds["padded_day"].values[1, 28:].all() and not ds["padded_day"].values[0].any()  # February 2021
        assert ds.attrs["input_std"] > 0 and ds.attrs["target_std"] > 0
        assert ds["daily"].encoding["chunksizes"][0] == 1  # chunked by month

    invoke("train", store, "--out", model, "--device", "cpu", "--epochs", "2", "--samples-per-epoch", "8",
           "--batch-size", "4", "--embed-dim", "16", "--depth", "1", "--tile-size", "32")
    payload = torch.load(model, weights_only=True)
    assert payload["contract"]["target"] == "residual" and payload["contract"]["tile_size"] == 32
    assert payload["model_args"]["embed_dim"] == 16
    assert "input_std" in payload["state_dict"]
    assert load_model(model).model_id == payload["model_id"]

    invoke("reconstruct", daily, out, "--model", model, "--device", "cpu")
    with xr.open_dataset(out) as ds, xr.open_dataset(truth) as ref:
        assert ds["sst"].dims == ("time", "lat", "lon") and ds.sizes["time"] == 4
        ocean = np.isfinite(ref["sst"].values)
        assert np.isfinite(ds["sst"].values[ocean]).all(), "every ocean pixel is filled"
        assert np.isnan(ds["sst"].values[~ocean]).all(), "land stays empty"
        assert ds["sst"].attrs["units"] == "K" and ds["sst"].attrs["standard_name"] == "sea_surface_temperature"
        assert (ds["time_bnds"].values[:, 1] > ds["time_bnds"].values[:, 0]).all()

    report = json.loads(invoke("evaluate", out, truth, "--input", daily, "--json").stdout)
    ours, naive = report["methods"]["sstfill"], report["methods"]["naive_composite"]
    assert ours["coverage"] == 1.0 and naive["coverage"] < 1.0
    assert 0 < ours["overall"]["rmse"] < 1.0
    assert set(ours["per_month"]) == {"2021-01", "2021-02", "2021-03", "2021-04"}
    table = invoke("evaluate", out, truth, "--input", daily).stdout
    assert "RMSE" in table and "naive" in table


def test_a_daily_target_in_many_files_is_averaged_to_months(small_region, tmp_path):
    daily, truth = small_region
    with xr.open_dataset(daily) as d, xr.open_dataset(truth) as t:
        days = d["time"].isel(time=slice(0, 59))  # January and February 2021
        # one file per day: the month's map plus a ramp that sums to zero over the month, so
        # the monthly mean is the monthly truth and no single day is
        for day, month, n_days, day_of_month in zip(days.values, days.dt.month.values, days.dt.days_in_month.values,
                                                     days.dt.day.values, strict=True):
            ramp = 0.05 * (day_of_month - (n_days + 1) / 2)
            (t[["sst"]].sel(time=t["time"].dt.month == month) + ramp).assign_coords(time=[day]).to_netcdf(
                tmp_path / f"target_{str(day)[:10]}.nc")
        d.isel(time=slice(0, 59)).to_netcdf(tmp_path / "daily.nc")
    invoke("prepare", tmp_path / "daily.nc", "--target", str(tmp_path / "target_*.nc"),
           "--out", tmp_path / "daily_target.nc")
    invoke("prepare", tmp_path / "daily.nc", "--target", truth, "--out", tmp_path / "monthly_target.nc")
    with xr.open_dataset(tmp_path / "daily_target.nc") as a, xr.open_dataset(tmp_path / "monthly_target.nc") as b:
        assert a.sizes["month"] == 2
        np.testing.assert_allclose(a["target"].values, b["target"].values, rtol=1e-6)


def test_bad_input_is_one_line_exit_1_and_writes_nothing(small_region, tmp_path):
    daily, truth = small_region
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["reconstruct", str(daily), str(out), "--var", "nope"])
    assert result.exit_code == 1
    assert "expected a variable 'nope'" in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.iterdir())
    result = runner.invoke(app, ["reconstruct", str(daily), str(daily), "--overwrite"])
    assert result.exit_code == 1 and "different from the inputs" in result.output
    result = runner.invoke(app, ["train", str(truth), "--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 1 and "sstfill prepare" in result.output
    result = runner.invoke(app, ["reconstruct", str(daily), str(out), "--device", "cuda:7"])
    if not torch.cuda.is_available():
        assert result.exit_code == 1 and "--device cpu" in result.output


def test_self_supervised_store_from_gappy_data_alone(small_region, tmp_path):
    daily, _ = small_region
    store, model, out = tmp_path / "store.nc", tmp_path / "model.pt", tmp_path / "monthly.nc"
    invoke("prepare", daily, "--out", store, "--min-target-days", "8", "--seed", "1")
    with xr.open_dataset(store) as ds, xr.open_dataset(daily) as raw:
        assert ds.attrs["training_mode"] == "self-supervised"
        good = raw["sst"].where(raw["quality_level"] >= 4)
        seen_per_month = good.notnull().resample(time="MS").sum().values
        target_defined = np.isfinite(ds["target"].values)
        assert target_defined.any() and (seen_per_month[target_defined] >= 8).all(), "only well-observed pixels teach"
        assert np.isfinite(ds["daily"].values).sum() < 0.9 * good.notnull().sum(), "extra days are hidden"
        assert (ds["nobs"].values <= seen_per_month).all()
    invoke("train", store, "--out", model, "--device", "cpu", "--epochs", "1", "--samples-per-epoch", "4",
           "--batch-size", "4", "--embed-dim", "16", "--depth", "1", "--tile-size", "32")
    assert torch.load(model, weights_only=True)["contract"]["training_mode"] == "self-supervised"
    invoke("reconstruct", daily, out, "--model", model, "--device", "cpu")
    with xr.open_dataset(out) as ds:  # the output says its uncertainty is not calibrated against a truth
        assert ds.attrs["model_training_mode"] == "self-supervised"
        assert "understates the error" in ds["sst_uncertainty"].attrs["comment"]


def test_absolute_target_form_is_recorded_and_reconstructs(small_region, tmp_path):
    daily, truth = small_region
    store, model, out = tmp_path / "store.nc", tmp_path / "model.pt", tmp_path / "monthly.nc"
    invoke("prepare", daily, "--target", truth, "--out", store)
    invoke("train", store, "--out", model, "--device", "cpu", "--epochs", "1", "--samples-per-epoch", "4",
           "--batch-size", "4", "--embed-dim", "16", "--depth", "1", "--tile-size", "32", "--target-form", "absolute")
    assert torch.load(model, weights_only=True)["contract"]["target"] == "absolute"
    invoke("reconstruct", daily, out, "--model", model, "--device", "cpu")
    with xr.open_dataset(out) as ds, xr.open_dataset(truth) as ref:
        ocean = np.isfinite(ref["sst"].values)
        assert np.isfinite(ds["sst"].values[ocean]).all()
        assert 260 < float(np.nanmean(ds["sst"].values)) < 310
    result = runner.invoke(app, ["train", str(store), "--out", str(tmp_path / "x.pt"), "--target-form", "relative"])
    assert result.exit_code == 1 and "target form" in result.output


def test_multi_month_model_predicts_each_month_in_its_centred_window(small_region, tmp_path):
    from sstfill.config import ModelConfig, TrainConfig
    from sstfill.prepare import prepare
    from sstfill.reconstruct import reconstruct
    from sstfill.train import train

    daily, truth = small_region
    store = prepare([daily], [truth], tmp_path / "store.nc")
    config = TrainConfig(epochs=1, samples_per_epoch=4, batch_size=2, tile_size=32, months_per_window=3)
    model = tmp_path / "model.pt"
    train([store], model, config=config, model_config=ModelConfig(embed_dim=16, hidden=16, depth=1), device="cpu")
    assert load_model(model).contract.months_per_window == 3
    with xr.open_dataset(daily) as ds:
        ds.sel(time=slice("2021-02-01", None)).to_netcdf(tmp_path / "feb_apr.nc")
    # check=False: the model's own maps (a check's choice rule is fitted on all the months it is given)
    whole = reconstruct([daily], tmp_path / "whole.nc", model=model, device="cpu", check=False)
    part = reconstruct([tmp_path / "feb_apr.nc"], tmp_path / "part.nc", model=model, device="cpu", check=False)
    with xr.open_dataset(whole) as w, xr.open_dataset(part) as p, xr.open_dataset(truth) as ref:
        ocean = np.isfinite(ref["sst"].values)
        assert w.sizes["time"] == 4 and np.isfinite(w["sst"].values[ocean]).all()
        # March sits in the window February-April in both records, so its map is the same;
        # February's windows differ (January-March against February-April), and so does its map.
        np.testing.assert_array_equal(w["sst"].values[2], p["sst"].values[1])
        assert np.nanmax(np.abs(w["sst"].values[1] - p["sst"].values[0])) > 0


def test_the_baseline_fill_follows_the_grid_spacing_from_prepare_to_reconstruct(tmp_path, monkeypatch):
    """prepare fills a 1 degree grid from sigma 1 px; train records the rule, not one sigma; reconstruct
    applies it to the input's own spacing, and a model file of sstfill 0.1 keeps its fixed 2 px."""
    import sstfill.data.predict
    from sstfill.data.baseline import composite, fill_gaps
    from sstfill.errors import InputError
    from sstfill.io.store import FILL_BY_SPACING
    from sstfill.testing import make_grid, synthetic_sst, write_netcdf
    from sstfill.train import train

    lat, lon = make_grid(-40.0, -8.0, -30.0, 2.0, 1.0)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=2, seed=5, cloud_cover=0.8)
    daily_path, truth_path = write_netcdf(daily, tmp_path / "daily.nc"), write_netcdf(truth, tmp_path / "truth.nc")
    store = tmp_path / "store.nc"
    invoke("prepare", daily_path, "--target", truth_path, "--out", store)
    with xr.open_dataset(store) as ds:
        assert list(ds.attrs["baseline_sigma_px"]) == [1.0, 1.0] and ds.attrs["baseline_fill"] == FILL_BY_SPACING
        days = np.where(ds["valid"].values[0] == 1, ds["daily"].values[0], np.nan)
        ocean = ds["land_mask"].values == 0
        mean, count = composite(days)
        assert (ocean & (count == 0)).any(), "the check needs never-observed pixels"
        np.testing.assert_allclose(ds["baseline"].values[0][ocean], fill_gaps(mean, ocean, sigma_px=1.0)[ocean],
                                   rtol=0, atol=1e-5)
        assert not np.allclose(ds["baseline"].values[0][ocean], fill_gaps(mean, ocean, sigma_px=2.0)[ocean], atol=1e-3)

    invoke("train", store, "--out", tmp_path / "model.pt", "--device", "cpu", "--epochs", "1", "--samples-per-epoch",
           "4", "--batch-size", "4", "--embed-dim", "16", "--depth", "1", "--tile-size", "16")
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.contract.baseline_sigma_px is None

    used = []
    real_load_month = sstfill.data.predict.load_month

    def load_month(*args, sigma_px, **kwargs):
        used.append(sigma_px)
        return real_load_month(*args, sigma_px=sigma_px, **kwargs)

    monkeypatch.setattr(sstfill.data.predict, "load_month", load_month)
    invoke("reconstruct", daily_path, tmp_path / "out.nc", "--model", tmp_path / "model.pt", "--device", "cpu")
    assert set(used) == {(1.0, 1.0)}
    before = len(used)
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    payload["contract"]["baseline_sigma_px"] = 2.0  # as sstfill 0.1 wrote it
    torch.save(payload, tmp_path / "old.pt")
    invoke("reconstruct", daily_path, tmp_path / "old_out.nc", "--model", tmp_path / "old.pt", "--device", "cpu")
    assert set(used[before:]) == {(2.0, 2.0)}

    with xr.open_dataset(store) as ds:
        ds.load()
    del ds.attrs["baseline_fill"]  # a store from sstfill 0.1, with its one fixed sigma
    ds.attrs["baseline_sigma_px"] = 2.0
    ds.to_netcdf(tmp_path / "old_store.nc")
    with pytest.raises(InputError, match="gap-filled alike"):
        train([store, tmp_path / "old_store.nc"], tmp_path / "mixed.pt", device="cpu")
