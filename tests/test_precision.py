"""How the model computes: mixed precision (autocast) and the batch size chosen for the device."""

import numpy as np
import pytest
import torch
import xarray as xr

from sstfill.checkpoint import load_model
from sstfill.config import ReconstructConfig
from sstfill.device import autocast, bf16_native, inference_batch_size, training_precision
from sstfill.errors import InputError
from sstfill.reconstruct import reconstruct
from sstfill.train import train


def test_bf16_reconstruction_stays_close_to_fp32(small_region, tmp_path):
    fp32 = reconstruct(small_region[0], tmp_path / "fp32.nc", device="cpu", check=False, months="2021-01")
    bf16 = reconstruct(small_region[0], tmp_path / "bf16.nc", device="cpu", check=False, months="2021-01",
                       precision="bf16")
    with xr.open_dataset(fp32) as a, xr.open_dataset(bf16) as b:
        difference = np.abs(a["sst"].values - b["sst"].values)
        assert np.isfinite(b["sst"].values).sum() == np.isfinite(a["sst"].values).sum()
        assert 0 < np.nanmax(difference) < 0.2 and np.nanmean(difference) < 0.02  # kelvin


@pytest.mark.parametrize("precision", ["bf16", "auto"])
def test_bf16_and_auto_training_run_learn_and_say_how(store, tmp_path, precision):
    from sstfill.config import ModelConfig, TrainConfig

    config = TrainConfig(epochs=1, batch_size=4, samples_per_epoch=8, patience=1)
    result = train([store], tmp_path / "m.pt", config=config,
                   model_config=ModelConfig(embed_dim=16, hidden=16, depth=1), device="cpu", precision=precision)
    assert np.isfinite(result.validation_rmse_k)
    used = "bf16" if precision == "bf16" or bf16_native(torch.device("cpu")) else "fp32"
    assert load_model(result.path).training["precision"] == used


@pytest.mark.parametrize(("avx512_bf16", "amx", "expected"), [(True, False, "bf16"), (False, True, "bf16"),
                                                               (False, False, "fp32"), (None, None, "fp32")])
def test_auto_training_precision_is_bf16_only_where_the_cpu_has_it(monkeypatch, avx512_bf16, amx, expected):
    for probe, value in (("_is_avx512_bf16_supported", avx512_bf16), ("_is_amx_tile_supported", amx)):
        if value is None:  # a torch without the probe
            monkeypatch.delattr(torch.cpu, probe, raising=False)
        else:
            monkeypatch.setattr(torch.cpu, probe, lambda value=value: value, raising=False)
    cpu = torch.device("cpu")
    assert training_precision("auto", cpu) == expected
    assert training_precision("fp32", cpu) == "fp32" and training_precision("bf16", cpu) == "bf16"


def test_autocast_runs_linear_layers_in_bf16_on_cpu():
    layer = torch.nn.Linear(4, 4)
    with autocast(torch.device("cpu"), "bf16"):
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert layer(torch.randn(2, 4)).dtype == torch.float32


@pytest.mark.parametrize("precision", ["fp64", "BF16", ""])
def test_unknown_precision_is_refused(precision):
    with pytest.raises(InputError, match="expected --precision fp32, bf16 or fp16"):
        ReconstructConfig(precision=precision)


def test_fp16_training_is_refused_before_any_work(store, tmp_path):
    with pytest.raises(InputError, match="expected --precision auto, fp32 or bf16"):
        train([store], tmp_path / "m.pt", device="cpu", precision="fp16")
    assert not (tmp_path / "m.pt").exists()


def test_cpu_batches_are_small_and_give_the_same_maps(small_region, tmp_path):
    assert inference_batch_size(torch.device("cpu")) == 4
    outputs = [reconstruct(small_region[0], tmp_path / f"b{n}.nc", device="cpu", check=False, months="2021-01",
                           batch_size=n) for n in (None, 1, 8)]
    maps = []
    for path in outputs:
        with xr.open_dataset(path) as ds:
            maps.append(ds["sst"].values)
    for other in maps[1:]:
        np.testing.assert_allclose(other, maps[0], atol=1e-4, equal_nan=True)
