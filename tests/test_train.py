"""The train stage: its settings, loss weights, schedule, early stopping, throughput log, and the stores it takes."""

import logging
import re

import pytest
import torch
import xarray as xr

from sstfill.checkpoint import load_model
from sstfill.config import ModelConfig, TrainConfig
from sstfill.errors import InputError
from sstfill.io.store import STORE_VERSION, open_store
from sstfill.train import _loss_weight, stop_early, throughput, train

SMALL = ModelConfig(embed_dim=16, hidden=16, depth=1)


def test_early_stopping_waits_for_the_second_half_of_the_schedule():
    config = TrainConfig(epochs=60, patience=10)
    assert not stop_early(23, 13, config)  # ten epochs without improvement, but still in the first half
    assert not stop_early(31, 22, config)
    assert stop_early(31, 21, config)
    assert stop_early(60, 50, config)


def test_pixels_seen_on_fewer_than_5_days_weigh_more_in_the_loss():
    days = 31
    missing = torch.ones(1, 1, 2 * days, 1, 4, dtype=torch.bool)  # two months, four pixels
    for pixel, seen in enumerate((0, 4, 5, 12)):
        missing[0, 0, :seen, 0, pixel] = False  # month 1
        missing[0, 0, days:days + 20, 0, pixel] = False  # month 2: every pixel well seen
    loss_mask = torch.ones(1, 2, 1, 4, dtype=torch.bool)
    loss_mask[0, 1, 0, 3] = False  # land or no target
    weight = _loss_weight({"loss_mask": loss_mask, "daily_mask": missing}, 3.0)
    assert weight[0, 0, 0].tolist() == [3.0, 3.0, 1.0, 1.0]
    assert weight[0, 1, 0].tolist() == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(InputError, match="positive few_days_weight"):
        TrainConfig(few_days_weight=0.0)


@pytest.mark.parametrize("settings", [
    {"epochs": 0}, {"batch_size": 0}, {"samples_per_epoch": -4}, {"patience": 0}, {"tile_size": 0},
    {"months_per_window": 0}, {"seed": -1}, {"learning_rate": 0.0}, {"learning_rate": float("nan")},
    {"validation_fraction": 0.0}, {"validation_fraction": 1.0}, {"weight_decay": -1e-4},
    {"few_days_weight": float("inf")}, {"epochs": 2.5}, {"target_form": "anomaly"},
])
def test_training_settings_out_of_range_are_refused(settings):
    with pytest.raises(InputError, match="expected"):
        TrainConfig(**settings)


@pytest.mark.parametrize("settings", [
    {"embed_dim": 30}, {"embed_dim": 0}, {"embed_dim": 24, "num_heads": 16}, {"num_heads": 0}, {"depth": 0},
    {"hidden": 0}, {"overlap": -1}, {"pixel_channels": -1}, {"dropout": 1.0}, {"patch_size": (1, 4)},
    {"patch_size": (1, 0, 4)}, {"baseline_structure": "yes"},
])
def test_model_settings_the_model_cannot_use_are_refused(settings):
    with pytest.raises(InputError, match="expected"):
        ModelConfig(**settings)


def test_the_refusal_names_the_command_line_option():
    with pytest.raises(InputError, match=r"expected --epochs of 1 or more, found 0"):
        TrainConfig(epochs=0)
    with pytest.raises(InputError, match=r"--embed-dim .* found 30; pass e.g. 32"):
        ModelConfig(embed_dim=30)


def test_a_schedule_of_ten_steps_trains(store, tmp_path):
    # OneCycleLR divides by zero when a tenth of the steps is exactly one.
    config = TrainConfig(epochs=10, samples_per_epoch=4, batch_size=4, tile_size=32)
    result = train([store], tmp_path / "m.pt", config=config, model_config=SMALL, device="cpu")
    assert result.epochs_run >= 1 and result.path.is_file()


def test_a_tile_smaller_than_the_patch_or_negative_workers_are_refused_before_anything_is_written(store, tmp_path):
    with pytest.raises(InputError, match="--tile-size of at least the model's patch"):
        train([store], tmp_path / "m.pt", config=TrainConfig(tile_size=3), model_config=SMALL, device="cpu")
    with pytest.raises(InputError, match="--workers of 0 or more"):
        train([store], tmp_path / "m.pt", model_config=SMALL, device="cpu", workers=-1)
    assert list(tmp_path.iterdir()) == []


def store_copy(store, path, edit):
    with xr.open_dataset(store, mask_and_scale=False) as ds:
        copy = ds.load()
    edit(copy)
    copy.to_netcdf(path)
    return path


def test_a_store_of_a_newer_version_or_without_statistics_is_refused(store, tmp_path):
    newer = store_copy(store, tmp_path / "newer.nc",
                       lambda ds: ds.attrs.update(sstfill_store_version=STORE_VERSION + 1))
    with pytest.raises(InputError, match="upgrade sstfill"):
        open_store(newer)
    no_std = store_copy(store, tmp_path / "no_std.nc", lambda ds: ds.attrs.pop("target_std"))
    with pytest.raises(InputError, match=r"normalisation statistics target_mean.*re-run 'sstfill prepare'"):
        open_store(no_std)
    month_13 = store_copy(store, tmp_path / "month_13.nc", lambda ds: ds["month_of_year"].values.fill(13))
    with pytest.raises(InputError, match=r"calendar months outside 1..12"):
        open_store(month_13)


def as_written_by_sstfill_0_1_0(ds: xr.Dataset) -> None:
    """A store as sstfill 0.1.0 wrote it: version 1, one fixed fill sigma, none of the later attributes."""
    for name in [n for n in ds.attrs if n.startswith("absolute_")] + ["baseline_fill", "training_mode",
                                                                      "min_target_days", "seed"]:
        del ds.attrs[name]
    ds.attrs.update(sstfill_store_version=1, baseline_sigma_px=2.0)


def test_a_store_of_sstfill_0_1_0_still_trains_residual_models(store, tmp_path):
    old = store_copy(store, tmp_path / "old.nc", as_written_by_sstfill_0_1_0)
    assert STORE_VERSION > 1 and open_store(old).attrs["sstfill_store_version"] == 1
    quick = {"epochs": 1, "samples_per_epoch": 4, "batch_size": 4, "tile_size": 32}
    result = train([old], tmp_path / "m.pt", config=TrainConfig(**quick), model_config=SMALL, device="cpu")
    assert load_model(result.path).contract.baseline_sigma_px == 2.0
    with pytest.raises(InputError, match=r"absolute-value statistics .* found older stores"):
        train([old], tmp_path / "a.pt", config=TrainConfig(**quick, target_form="absolute"), model_config=SMALL,
              device="cpu")


def test_throughput_counts_tiles_and_pixel_days_per_second():
    # 512 tiles of 64 x 64 over 31 days in 2 s: 256 tiles/s, 256 * 4096 * 31 pixel-days/s
    assert throughput(512, 2.0, 64, 31) == "256.0 tiles/s, 32.51 M pixel-days/s"


def test_each_epoch_line_gives_the_training_throughput(store, tmp_path, caplog):
    config = TrainConfig(epochs=2, samples_per_epoch=4, batch_size=4, tile_size=32)
    with caplog.at_level(logging.INFO, logger="sstfill.train"):
        train([store], tmp_path / "m.pt", config=config, model_config=SMALL, device="cpu")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(lines) == 2
    for line in lines:
        found = re.search(r"RMSE \S+ K, (\S+) tiles/s, (\S+) M pixel-days/s", line)
        assert found, line
        tiles_per_s, pixel_days = float(found[1]), float(found[2])
        assert tiles_per_s > 0
        assert abs(pixel_days - tiles_per_s * 32 * 32 * 31 / 1e6) <= 0.01 + 1e-3 * pixel_days
