"""The check on withheld observations (sstfill.check), as reconstruct runs it: it may choose another estimator,
and says what it did."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.ndimage import gaussian_filter

from sstfill.check import CHECK_MAX_PIXELS, check_tile_count
from sstfill.data.tiling import Tile
from sstfill.reconstruct import reconstruct


@pytest.fixture(scope="module")
def smooth_month(tmp_path_factory):
    """A month of a smooth field that does not change from day to day, under drifting clouds:
    the composite is exact wherever a pixel was seen once (the case where a learned texture harms)."""
    rng = np.random.default_rng(5)
    lat = np.arange(-10, 2, 0.25) + 0.125
    lon = np.arange(150, 166, 0.25) + 0.125
    field = 300 + 1.5 * np.sin(np.radians(lon)[None, :] * 6) * np.cos(np.radians(lat)[:, None] * 9)
    noise = gaussian_filter(rng.normal(size=(31, lat.size, lon.size)), sigma=(1, 4, 4))
    clouds = noise > np.quantile(noise, 0.55)
    days = np.where(clouds, np.nan, field[None]).astype(np.float32)
    time = pd.date_range("2021-03-01", periods=31)
    ds = xr.Dataset({"sst": (("time", "lat", "lon"), days, {"units": "K", "standard_name": "sea_surface_temperature"})},
                    coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"})})
    path = tmp_path_factory.mktemp("smooth") / "daily.nc"
    ds.to_netcdf(path)
    return path, field


def test_where_the_composite_is_exact_it_is_chosen_over_a_poor_model(smooth_month, tiny_model, tmp_path):
    daily, field = smooth_month
    out = reconstruct([daily], tmp_path / "checked.nc", model=tiny_model, device="cpu", land_mask=None)
    raw = reconstruct([daily], tmp_path / "raw.nc", model=tiny_model, device="cpu", check=False)
    with xr.open_dataset(out) as checked, xr.open_dataset(raw) as plain:
        seen = checked["nobs"].values[0] > 0
        error = np.abs(checked["sst"].values[0] - field)[seen]
        raw_error = np.abs(plain["sst"].values[0] - field)[seen]
        assert error.max() < 1e-3 < raw_error.max(), "the exact composite replaces the model's output"
        calibration = checked["sst_uncertainty"].attrs["calibration"]
        assert "1-4 days: composite" in calibration or "1-4 days: low_rank" in calibration
        assert "not checked" in plain["sst_uncertainty"].attrs["calibration"]


@pytest.mark.slow
def test_the_check_is_repeatable_and_its_seed_chooses_what_is_withheld(small_region, tiny_model, tmp_path):
    daily, _ = small_region
    runs = [reconstruct([daily], tmp_path / f"run{i}.nc", model=tiny_model, device="cpu", seed=seed)
            for i, seed in enumerate((0, 0, 1))]
    with xr.open_dataset(runs[0]) as a, xr.open_dataset(runs[1]) as b, xr.open_dataset(runs[2]) as c:
        assert a["sst_uncertainty"].attrs["calibration"] == b["sst_uncertainty"].attrs["calibration"]
        assert np.array_equal(a["sst"].values, b["sst"].values, equal_nan=True)
        assert a["sst_uncertainty"].attrs["calibration"] != c["sst_uncertainty"].attrs["calibration"]


def test_adaptation_never_trains_on_the_tiles_the_check_scores(small_region, tiny_model, tmp_path, monkeypatch):
    import sstfill.reconstruct as stage
    from sstfill.data.tiling import extract

    seen = {}

    def fake_adapt(daily, months, loaded, land, *, exclude, **kwargs):
        seen["exclude"] = exclude
        return loaded

    import sstfill.check as check

    real_check = check.check_month

    def spy_check(daily, months, loaded, land, window, tiles, **kwargs):
        seen.setdefault("tiles", []).append(tiles)
        return real_check(daily, months, loaded, land, window, tiles, **kwargs)

    monkeypatch.setattr(stage, "adapt_to_input", fake_adapt)
    monkeypatch.setattr(check, "check_month", spy_check)
    stage.reconstruct([small_region[0]], tmp_path / "out.nc", model=tiny_model, device="cpu", adapt=True)
    tiles, exclude = seen["tiles"], seen["exclude"]
    assert len(tiles) == 4 and all(t == tiles[0] for t in tiles), "the same tiles in every month"
    assert all(extract(exclude, tile).all() for tile in tiles[0]) and not exclude.all()


def test_the_wide_fill_differs_from_the_composite_only_where_no_day_was_seen():
    from sstfill.check import candidate_maps
    from sstfill.data.baseline import monthly_baseline
    from sstfill.data.months import MonthFields

    rng = np.random.default_rng(3)
    slots = (290 + gaussian_filter(rng.normal(size=(31, 40, 40)), (0, 3, 3))).astype(np.float32)
    slots[:, 10:22, 10:22] = np.nan  # never seen this month
    ocean = np.ones((40, 40), bool)
    baseline, nobs = monthly_baseline(slots, ocean, sigma_px=(1.0, 1.0))
    maps = candidate_maps(("model", "composite", "wide_fill"), baseline, MonthFields(slots, baseline, nobs), ocean,
                          False, (1.0, 1.0))
    seen = nobs > 0
    np.testing.assert_array_equal(maps["wide_fill"][seen], maps["composite"][seen])
    assert not np.allclose(maps["wide_fill"][~seen], maps["composite"][~seen])
    assert np.isfinite(maps["wide_fill"]).all()


def test_the_check_runs_on_a_third_of_the_tiles_within_its_pixel_bounds():
    tile = Tile(0, 0, 64, 64)
    assert check_tile_count([tile] * 300) == 100, "a third"
    assert check_tile_count([tile] * 6) == 6, "at least CHECK_MIN_PIXELS: all of a small domain"
    assert check_tile_count([tile] * 6, for_adapt=True) == 2, "adaptation keeps tiles to train on"
    cap = CHECK_MAX_PIXELS // (64 * 64)
    assert check_tile_count([tile] * 3800) == cap == check_tile_count([tile] * 3800, for_adapt=True) < 3800 // 3



@pytest.fixture(scope="module")
def three_month_model(store, tmp_path_factory):
    """A tiny model whose window is three months, so that a month's days serve three maps."""
    from sstfill.config import ModelConfig, TrainConfig
    from sstfill.train import train

    path = tmp_path_factory.mktemp("window3") / "window3.pt"
    train([store], path, config=TrainConfig(epochs=1, samples_per_epoch=4, batch_size=2, tile_size=32,
                                            months_per_window=3),
          model_config=ModelConfig(embed_dim=16, hidden=16, depth=1), device="cpu")
    return path


@pytest.mark.parametrize(("window", "low_rank", "months"), [(1, False, None), (1, True, None), (1, False, "2021-02"),
                                                           (3, False, None)])
def test_the_check_thins_the_months_read_for_the_maps_after_them(small_region, tiny_model, three_month_model,
                                                                   tmp_path, monkeypatch, window, low_rank, months):
    """Each month is read once, its maps made before the check thins its days (in place when no later map
    needs them and the low-rank candidate is left out): the output is that of a check that reads anew."""
    import sstfill.check as check
    import sstfill.reconstruct as stage

    model = tiny_model if window == 1 else three_month_model
    if not low_rank:
        monkeypatch.setattr(check, "LOW_RANK_MAX_ENTRIES", 0)
    reads = []

    def counted_read(daily, month, ocean, loaded):
        reads.append(month.label)
        return real_read(daily, month, ocean, loaded)

    real_read = stage.read_month
    monkeypatch.setattr(stage, "read_month", counted_read)
    monkeypatch.setattr(check, "read_month", counted_read)
    once = stage.reconstruct([small_region[0]], tmp_path / "once.nc", model=model, device="cpu", months=months)
    expected = ["2021-01", "2021-02", "2021-03"] if months else ["2021-01", "2021-02", "2021-03", "2021-04"]
    assert sorted(reads) == expected, "every month read once, those only the check needs included"

    real_check = check.MonthlyCheck.check
    monkeypatch.setattr(check.MonthlyCheck, "check",
                        lambda self, index, month_to_thin=None, advance=None: real_check(self, index))
    anew = stage.reconstruct([small_region[0]], tmp_path / "anew.nc", model=model, device="cpu", months=months)
    with xr.open_dataset(once) as a, xr.open_dataset(anew) as b:
        for name in ("sst", "sst_uncertainty", "nobs"):
            np.testing.assert_array_equal(a[name].values, b[name].values)
        assert a["sst_uncertainty"].attrs["calibration"] == b["sst_uncertainty"].attrs["calibration"]
